"""A bulk refund in a real browser: tick rows, choose the action, confirm with the typed
count, and watch the job's progress bar fill and finish."""
import pytest

from tests.browser.conftest import browser_login
from tests.job_support import make_payments, point_stripe_at, snapshot

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser


def test_tick_rows_confirm_and_watch_the_progress_bar_finish(app, page, stripe_bulk):
    point_stripe_at(app, stripe_bulk)
    stripe_bulk.delay = 0.4  # slow enough to see the bar move
    ids = make_payments(8)
    browser_login(page, "finance")
    page.goto("/admin/transaction/")
    rows = page.locator("table.model-list tbody tr")
    for i in range(5):
        rows.nth(i).locator("input.action-checkbox").check()
    page.get_by_role("button", name="With selected").click()
    page.locator(".dropdown-menu a", has_text="Refund remaining amount").click()

    page.wait_for_url("**/bulk/refund_remaining/**")
    expect(page.locator("#md-bulk-count")).to_contain_text("5 selected rows")
    expect(page.locator(".md-bulk-confirm")).to_contain_text("$50.00 over 5 payments")
    page.get_by_label("Type the number of payments to refund, to confirm").fill("5")
    page.locator("#md-bulk-form button[type=submit]").click()

    page.wait_for_url("**/admin/jobs/job/**")
    bar = page.locator("#md-job-bar")
    expect(page.locator("#md-job-state")).to_have_text("running", timeout=15000)
    expect(page.locator("#md-job-state")).to_have_text("done", timeout=30000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#md-job-done")).to_have_text("5")
    expect(page.locator("#md-job-rows tbody tr.md-row-done")).to_have_count(5)
    assert page.js_errors == []
    refunded, _ = snapshot()
    assert sorted(refunded.values()) == [0, 0, 0, 1000, 1000, 1000, 1000, 1000]
    assert sum(stripe_bulk.refunds.values()) == 5 and len(ids) == 8
