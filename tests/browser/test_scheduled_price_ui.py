"""The Total of a subscription whose new price waits for its renewal (issue 21 item 4), in
Chromium at 1366 px: what it costs today, "→ $59.00 from <day>" below it, the row still two
lines at most and nothing wider than the screen; the same in the profile."""
from datetime import timedelta

import pytest

from models import db
from models._types import utcnow
from models.dates import format_day
from tests import factories
from tests.browser.conftest import browser_login

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser


def test_the_total_shows_the_price_today_and_the_new_one_with_its_day(page):
    renewal = utcnow() + timedelta(days=20)
    ada = factories.customer(name="Ada Lovelace", email="ada.lovelace@analytical.example")
    factories.subscription(ada, factories.plan(name="Pro Monthly", price_cents=5900),
                           price_before_cents=4900, price_from=renewal,
                           next_payment_date=renewal, current_period_end=renewal)
    db.session.commit()
    day = format_day(renewal)
    browser_login(page, "viewer")
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto("/admin/subscription/")

    total = page.locator("table.model-list tbody tr td.col-price_cents").first
    expect(total).to_have_text(f"$49.00→ $59.00 from {day}")
    expect(total.locator(".md-price-next")).to_have_text(f"→ $59.00 from {day}")
    row = page.locator("table.model-list tbody tr").first
    line = total.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert row.bounding_box()["height"] <= 2 * line + 20  # two lines and the cell padding
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    page.locator("td.col-customer").get_by_role("link", name="Ada Lovelace").click()
    modal = page.locator("#fa_modal_window")
    modal.get_by_role("tab", name="Subscriptions").click()
    expect(modal.locator("#md-subscriptions tbody tr").first).to_contain_text(
        f"$49.00→ $59.00 from {day}")
    assert page.js_errors == []
