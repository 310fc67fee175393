"""Issue 21 items 6 and 7: the lists fit the screen, measured in Chromium at 1366 px (a
laptop) and 390 px (a phone): no horizontal scrolling of the page, every row action visible,
at 1366 px one row at most two lines tall, e-mails never broken, money right-aligned; the
profile's lifetime value whole at 390 px."""
import os
from datetime import timedelta

import pytest

from models import db
from models._types import utcnow
from tests import factories
from tests.browser.conftest import browser_login

pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
pytestmark = pytest.mark.browser

LISTS = ("/admin/subscription/", "/admin/transaction/", "/admin/customer/")

MEASURE = """() => {
  const doc = document.scrollingElement;
  const rows = [...document.querySelectorAll('table.model-list tbody tr')];
  const lineHeight = (td) => parseFloat(getComputedStyle(td).lineHeight);
  const tallest = Math.max(0, ...rows.map(r => {
      const td = r.querySelector('td:not(.list-buttons-column):not(.list-checkbox-column)');
      const cs = getComputedStyle(td);
      return r.getBoundingClientRect().height / lineHeight(td);
  }));
  const buttons = [...document.querySelectorAll('table.model-list td.list-buttons-column a,'
                                                + ' table.model-list td.list-buttons-column button')];
  const offscreen = buttons.filter(b => { const r = b.getBoundingClientRect();
      return r.width > 0 && (r.right > window.innerWidth + 1 || r.left < -1); }).length;
  const emails = [...document.querySelectorAll('table.model-list .md-email')];
  const brokenEmails = emails.filter(e => e.getClientRects().length > 1
      || e.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(e).lineHeight)).length;
  const money = [...document.querySelectorAll('table.model-list td.col-price_cents, table.model-list td.col-amount_cents, table.model-list td.col-lifetime_value_cents')];
  const notRight = money.filter(td => getComputedStyle(td).textAlign !== 'right').length;
  return {scrollWidth: doc.scrollWidth, width: window.innerWidth, rows: rows.length,
          tallestInLines: tallest, buttons: buttons.length, offscreen, emails: emails.length,
          brokenEmails, money: money.length, notRight};
}"""


@pytest.fixture
def busy_lists(app):
    """Subscriptions, payments and customers with long names and e-mails in every state."""
    now = utcnow()
    monthly = factories.plan("Pro Monthly", 4900, stripe_price_id="price_m", paypal_plan_id="P-M")
    yearly = factories.plan("Pro Yearly Unlimited Access", 49000, interval="year",
                            stripe_price_id="price_y", paypal_plan_id="P-Y")
    partner = factories.affiliate(name="Northwind Partners International")
    states = [{}, {"cancel_at_period_end": True}, {"status": "past_due"}, {"paused": True},
              {"status": "trialing"}, {"status": "canceled", "access_until": now}]
    for n in range(12):
        customer = factories.customer(
            name=f"Maximiliana Oyelaran-Fitzgerald {n}",
            email=f"maximiliana.oyelaran-fitzgerald.{n}@extraordinarily-long-domain.example")
        gateway = "stripe" if n % 2 else "paypal"
        factories.payment(customer, 4900 + n * 1000, gateway=gateway, affiliate_id=partner.id)
        factories.subscription(customer, yearly if n % 3 == 0 else monthly, gateway=gateway,
                               affiliate_id=partner.id, current_period_end=now + timedelta(days=9),
                               next_payment_date=now + timedelta(days=9), **states[n % 6])
    db.session.commit()


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("width", [1366, 390])
def test_lists_fit_the_screen(page, busy_lists, url, width):
    browser_login(page)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(url)
    m = page.evaluate(MEASURE)
    if os.environ.get("LAYOUT_SHOTS"):
        page.screenshot(path=f"{os.environ['LAYOUT_SHOTS']}/{url.split('/')[2]}-{width}.png",
                        full_page=False)
    assert m["rows"] >= 12
    assert m["scrollWidth"] <= m["width"], f"the page scrolls sideways at {width} px: {m}"
    assert m["offscreen"] == 0, f"row actions off-screen at {width} px: {m}"
    assert m["brokenEmails"] == 0, f"an e-mail broken over lines at {width} px: {m}"
    if width == 1366:
        assert m["notRight"] == 0, m  # on a phone each row is a card, read top to bottom
    if width == 1366:
        assert m["tallestInLines"] <= 2.9, f"a row taller than two lines at 1366 px: {m}"
    if url != "/admin/customer/":
        assert m["money"] >= 12


def test_profile_at_390_px_shows_the_whole_lifetime_value(page, busy_lists):
    browser_login(page)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/admin/customer/")
    page.locator("table.model-list a[data-target='#fa_modal_window']").first.click()
    ltv = page.locator("#md-ltv")
    ltv.wait_for()
    text = ltv.inner_text()
    assert text.startswith("$") and len(text) > 1
    fits = page.evaluate("""() => { const e = document.getElementById('md-ltv');
        return e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().right
               <= window.innerWidth; }""")
    assert fits


def test_profile_dates_do_not_wrap_at_1366_px(page, busy_lists):
    """Issue 21 item 15: a payment's date and time stay on one line in the pop-up."""
    browser_login(page)
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto("/admin/customer/")
    page.locator("table.model-list a[data-target='#fa_modal_window']").first.click()
    cell = page.locator("#md-transactions td.md-date").first
    cell.wait_for()
    lines = page.evaluate("""() => { const td = document.querySelector('#md-transactions td.md-date');
        const range = document.createRange(); range.selectNodeContents(td);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }""")
    assert lines == 1, lines
