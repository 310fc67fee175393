"""Home in Chromium (issue 19): the bridge as bars, MRR and net revenue as lines, the table
beneath, the same figures as the JSON, and a figure's link opening the list behind it."""
import pytest

from admin_app.metrics_cli import rebuild_all
from admin_app.seed import seed
from tests.browser.conftest import browser_login

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser
MOVES = ("new", "expansion", "reactivation", "contraction", "churn")


@pytest.fixture
def seeded(app):
    seed(150, 4, progress=False)
    rebuild_all(progress=False)


def test_home_draws_the_figures_of_its_json(seeded, page):
    browser_login(page, "viewer")
    page.goto("/admin/")
    data = page.request.get("/admin/metrics/mrr.json?months=12").json()
    chart = page.locator("#md-bridge-chart svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 500
    drawn = sum(1 for m in data["months"] for k in MOVES if m[f"{k}_cents"])
    assert drawn > 0
    expect(page.locator("#md-bridge-chart rect.md-bar")).to_have_count(drawn)
    for key in ("end_mrr_cents", "net_revenue_cents"):
        line = page.locator(f"polyline.md-line-{key}")
        expect(line).to_be_visible()
        assert len(line.get_attribute("points").split()) == 12
    expect(page.locator("#md-bridge tbody tr")).to_have_count(12)
    expect(page.locator("#md-mrr-now")).to_have_attribute("data-cents", str(data["mrr_cents"]))
    assert page.js_errors == []

    past_due = data["past_due"]["count"]
    assert past_due > 0
    page.locator("#md-past-due").click()
    page.wait_for_url("**/admin/subscription/?flt0_1=past_due")
    expect(page.locator("table.model-list tbody tr")).to_have_count(past_due)
