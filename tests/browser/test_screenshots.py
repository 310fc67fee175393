"""The README's screenshots, taken with the browser tests' machinery.

`python -m tests.browser.screenshots` writes them into docs/screenshots/ (the folder named by
MEMBERDESK_SCREENSHOTS); in the normal suite they go to a temporary folder, and the test
still checks that every page shows what the picture is meant to show.
"""
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from sqlalchemy import select

from models import Customer, Refund, db
from models._types import utcnow
from tests import factories
from tests.browser.conftest import browser_login

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = [pytest.mark.browser, pytest.mark.screenshots]

VIEWPORT = {"width": 1366, "height": 820}
PHONE = {"width": 390, "height": 844}
PEOPLE = [("Margaret Hamilton", "margaret@apollo.example", 128900),
          ("Katherine Johnson", "katherine@nasa.example", 96000),
          ("Linus Torvalds", "linus@kernel.example", 4900),
          ("Barbara Liskov", "barbara@mit.example", 57500),
          ("Dennis Ritchie", "dennis@bell-labs.example", 23800),
          ("Frances Allen", "frances@ibm.example", 14700),
          ("Tim Berners-Lee", "tim@w3.example", 0)]


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("MEMBERDESK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo(app):
    """A few customers; Ada has payments in two currencies, a refund, an affiliate, a plan."""
    app.config.update(SELLER_NAME="Demo Academy Inc.", SELLER_VAT_ID="US-EIN 12-3456789",
                      SELLER_ADDRESS="1 Market Street\nSan Francisco, CA 94105\nUnited States")
    for name, email, ltv in PEOPLE:
        factories.customer(name=name, email=email, lifetime_value_cents=ltv)
    ada = factories.customer(name="Ada Lovelace", email="ada@analytical.example",
                             company="Analytical Engines Ltd", phone="+1 520-555-0142",
                             address="200 N Stone Ave", city="Tucson", state="AZ",
                             postal_code="85701", country="US")
    partner = factories.affiliate(rate_bp=1500, name="Bletchley Partners")
    course = factories.payment(ada, 14900, description="Course: Engines in practice",
                               affiliate_id=partner.id, commission_cents=2235, minutes=30)
    factories.payment(ada, 4900, description="Pro Monthly", minutes=60)
    factories.payment(ada, 4900, currency="EUR", description="Workshop in Berlin", minutes=90)
    db.session.add(Refund(transaction_id=course.id, amount_cents=2000, currency="USD",
                          settlement_cents=2000, settlement_currency="USD",
                          status="succeeded", reason="requested_by_customer",
                          created_at=factories.BASE_TIME + timedelta(days=3)))
    course.refunded_cents, ada.lifetime_value_cents = 2000, ada.lifetime_value_cents - 2000
    monthly = factories.plan(name="Pro Monthly")
    factories.subscription(ada, monthly)
    # the Subscriptions list: one of each state, on both gateways
    yearly = factories.plan(name="Pro Yearly", price_cents=49000, interval="year")
    now = utcnow()
    soon, later = now + timedelta(days=12), now + timedelta(days=40)
    people = iter(db.session.scalars(select(Customer).where(Customer.id != ada.id)
                                     .order_by(Customer.id)))
    for plan, gateway, fields in (
            # a new price from the next renewal: $39.00 today, "→ $49.00 from …"
            (monthly, "stripe", dict(current_period_end=soon, next_payment_date=soon,
                                     price_before_cents=3900, price_from=soon)),
            (yearly, "paypal", dict(current_period_end=later, next_payment_date=later)),
            (monthly, "stripe", dict(cancel_at_period_end=True, current_period_end=soon)),
            (monthly, "paypal", dict(status="canceled", access_until=soon,
                                     current_period_end=soon, next_payment_date=None)),
            (monthly, "stripe", dict(status="past_due", current_period_end=now - timedelta(
                days=8), next_payment_date=now + timedelta(days=2))),
            (yearly, "stripe", dict(paused=True, current_period_end=later)),
            (monthly, "paypal", dict(status="trialing", current_period_end=soon,
                                     next_payment_date=soon))):
        factories.subscription(next(people), plan, gateway=gateway, affiliate_id=partner.id,
                               **fields)
    db.session.commit()
    return course.id


def _settled(page, path):
    """A screenshot once the pop-up's fade-in is over and its content has loaded."""
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#fa_modal_window')).opacity === '1'")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path))


def test_screenshots(page, demo, shots):
    page.set_viewport_size(VIEWPORT)
    browser_login(page, "owner")
    page.goto("/admin/customer/?sort=2&desc=1")
    expect(page.locator("table.model-list tbody tr")).to_have_count(len(PEOPLE) + 1)
    page.screenshot(path=str(shots / "customers-list.png"))

    page.locator("table.model-list tbody tr", has_text="Ada Lovelace").get_by_role(
        "link", name="Profile").click()
    modal = page.locator("#fa_modal_window")
    expect(modal.locator("#md-profile")).to_be_visible()
    # the €49.00 payment settled in dollars: counted at what it settled at (1.08)
    expect(modal.locator(".md-ltv-foreign")).to_have_text(
        "incl. €49.00 paid in EUR, settled as $52.92")
    _settled(page, shots / "profile.png")

    modal.locator(f"tr[data-transaction-id='{demo}'] a[data-action=refund]").click()
    expect(modal.locator("#md-refund-summary")).to_be_visible()
    _settled(page, shots / "refund.png")

    modal.get_by_role("link", name="Close").click()
    modal.locator(f"tr[data-transaction-id='{demo}'] a[data-action=invoice]").click()
    expect(modal.locator("#md-invoice-address")).to_contain_text("TUCSON, AZ 85701")
    _settled(page, shots / "invoice.png")

    modal.locator(".modal-header .close").click()
    modal.locator(f"tr[data-transaction-id='{demo}'] a[data-action=affiliate]").click()
    expect(modal.locator(".modal-title")).to_have_text("Edit Sale")
    _settled(page, shots / "edit-sale.png")

    modal.locator(".modal-header .close").click()
    modal.get_by_role("tab", name=re.compile("Subscriptions")).click()
    expect(modal.locator("#md-subscriptions")).to_be_visible()
    _settled(page, shots / "profile-subscriptions.png")

    for action, name in (("subscription_cancel", "subscription-cancel"),
                         ("subscription_affiliate", "subscription-affiliate")):
        modal.locator(f"#md-subscriptions tbody tr a[data-action={action}]").click()
        expect(modal.locator("#md-action-form")).to_be_visible()
        _settled(page, shots / f"{name}.png")
        modal.get_by_role("link", name="Close", exact=True).click()  # back to the tab
        expect(modal.locator("#md-subscriptions")).to_be_visible()

    modal.locator(".modal-header .close").click()
    expect(modal).to_be_hidden()
    page.goto("/admin/subscription/")  # the Subscriptions list at 1366 px
    expect(page.locator("table.model-list tbody tr")).to_have_count(8)
    expect(page.locator(".md-price-next")).to_have_count(1)
    page.screenshot(path=str(shots / "subscriptions-list.png"))

    page.set_viewport_size(PHONE)  # the profile on a phone
    page.goto("/admin/customer/?search=ada")
    page.locator("table.model-list tbody tr", has_text="Ada Lovelace").get_by_role(
        "link", name="Profile").click()
    expect(modal.locator("#md-profile")).to_be_visible()
    _settled(page, shots / "profile-phone.png")

    for name in ("customers-list", "profile", "refund", "invoice", "edit-sale",
                 "profile-subscriptions", "subscription-cancel", "subscription-affiliate",
                 "subscriptions-list", "profile-phone"):
        assert (shots / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert page.js_errors == []


def test_home_screenshot(page, app, shots):
    """Home on seeded data: the MRR bridge, the lines and the table (README)."""
    from admin_app.metrics_cli import rebuild_all
    from admin_app.seed import seed
    seed(400, 4, progress=False)
    rebuild_all(progress=False)
    browser_login(page)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1500})
    page.goto("/admin/")
    expect(page.locator("#md-bridge-chart rect.md-bar").first).to_be_visible()
    expect(page.locator("polyline.md-line-end_mrr_cents")).to_be_visible()
    page.screenshot(path=str(shots / "home.png"))
