"""The pop-up flow from the profile (issue 12): Cancel/× back to the profile, errors and
refusals inside the pop-up with what was typed, the outcome shown inside the reopened profile."""
import re

import pytest

from models import Refund, Transaction, db
from tests import factories
from tests.browser.conftest import browser_login
from tests.gateway_sandbox import active, refunded_cents, stripe_settings

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser

MODAL = "#fa_modal_window"


def _open_profile(page, name):
    page.locator("table.model-list tbody tr", has_text=name).get_by_role(
        "link", name="Profile").click()
    modal = page.locator(MODAL)
    expect(modal.locator("#md-profile")).to_be_visible()
    return modal


def _open_action(modal, tx_id, action):
    modal.locator(f"tr[data-transaction-id='{tx_id}'] a[data-action={action}]").click()
    expect(modal.locator("#md-profile")).to_have_count(0)
    expect(modal).to_have_class(re.compile(r"\bshow\b"))


def _on_top(page, locator):
    """The element really is what the admin sees at its place (no overlay above it)."""
    return locator.evaluate("el => { const r = el.getBoundingClientRect();"
                            " const top = document.elementFromPoint(r.x + r.width / 2,"
                            " r.y + r.height / 2); return el === top || el.contains(top); }")


@pytest.fixture
def stripe_page(app, page, sandbox):
    app.config.update(stripe_settings(sandbox, STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=2))
    return page


@pytest.fixture
def grace():
    customer = factories.customer(name="Grace Hopper", email="grace@example.com")
    tx = factories.payment(customer, 5000, description="Compiler course")
    db.session.add(Refund(transaction_id=tx.id, amount_cents=1100, currency="USD",
                          status="succeeded"))
    tx.refunded_cents, customer.lifetime_value_cents = 1100, 3900
    sb = active()
    if sb is not None:  # the sandbox's Stripe made that refund too
        with sb.lock:
            charge = sb.stripe.charges[sb.stripe.payment_intents[tx.gateway_ref]
                                       ["latest_charge"]]
            sb.stripe.add_refund(charge, amount=1100, created=sb.now())
    factories.subscription(customer, factories.plan())
    db.session.commit()
    return tx.id


def at_stripe(sandbox, tx_id):
    return refunded_cents(sandbox, "stripe", db.session.get(Transaction, tx_id).gateway_ref)


def stripe_calls(sandbox):
    with sandbox.sandbox.lock:
        return [c for c in sandbox.sandbox.calls if c.vendor == "stripe"]


def test_cancel_and_close_go_back_to_the_profile(page, grace):
    browser_login(page, "finance")
    modal = _open_profile(page, "Grace Hopper")
    for action, close in [("refund", lambda m: m.get_by_role("link", name="Close").click()),
                          ("invoice", lambda m: m.locator(".modal-header .close").click()),
                          ("refund", lambda m: m.locator(".modal-header .close").click())]:
        _open_action(modal, grace, action)
        close(modal)
        expect(modal.locator("#md-profile")).to_be_visible()
        expect(modal).to_have_class(re.compile(r"\bshow\b"))
        expect(modal.locator(".nav-tabs .nav-link.active")).to_have_text("Transactions")
    # still the list, naming the open profile (issue 21 item 8)
    expect(page).to_have_url(re.compile(r"/admin/customer/\?profile=[0-9]+$"))
    # The profile's own × still closes the pop-up, and the URL no longer names it.
    modal.locator(".modal-header .close").click()
    expect(modal).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/admin/customer/$"))
    assert page.js_errors == []


@pytest.mark.parametrize("typed, message", [
    ("abc", "“abc” is not an amount."), ("0", "Enter an amount greater than zero."),
    ("10.001", "USD amounts have at most 2 decimal places.")])
def test_invalid_amounts_are_answered_inside_the_popup(stripe_page, sandbox, grace, typed,
                                                      message):
    page = stripe_page
    browser_login(page, "finance")
    modal = _open_profile(page, "Grace Hopper")
    _open_action(modal, grace, "refund")
    modal.locator("[name=amount]").fill(typed)
    modal.get_by_role("button", name="Refund", exact=True).click()
    expect(modal.locator(".invalid-feedback")).to_have_text(message)
    expect(modal).to_have_class(re.compile(r"\bshow\b"))
    expect(modal.locator("[name=amount]")).to_have_value(typed)
    # no full-page form: still the list, naming the open profile
    expect(page).to_have_url(re.compile(r"/admin/customer/\?profile=[0-9]+$"))
    assert not stripe_calls(sandbox) and at_stripe(sandbox, grace) == 1100
    # Cancel still goes back to the profile from there.
    modal.get_by_role("link", name="Close").click()
    expect(modal.locator("#md-profile")).to_be_visible()
    assert page.js_errors == []


def test_a_refused_refund_keeps_the_form_then_the_outcome_shows_in_the_profile(
        stripe_page, sandbox, grace):
    page = stripe_page
    browser_login(page, "finance")
    modal = _open_profile(page, "Grace Hopper")
    _open_action(modal, grace, "refund")
    modal.locator("[name=amount]").fill("45.00")
    modal.locator("[name=note]").fill("Asked by phone")
    modal.get_by_role("button", name="Refund", exact=True).click()

    error = modal.locator(".md-action-error")
    expect(error).to_have_text("Only $39.00 of this payment is left to refund.")
    assert _on_top(page, error)
    expect(modal.locator("[name=amount]")).to_have_value("45.00")
    expect(modal.locator("[name=note]")).to_have_value("Asked by phone")
    assert not stripe_calls(sandbox)

    modal.locator("[name=amount]").fill("20.00")
    modal.get_by_role("button", name="Refund", exact=True).click()
    expect(page).to_have_url(re.compile(r"profile="))
    expect(modal.locator("#md-profile")).to_be_visible()
    outcome = modal.locator(".md-outcome")
    expect(outcome).to_contain_text("Refunded $20.00 through Stripe.")
    assert _on_top(page, outcome)
    expect(modal.locator("#md-ltv")).to_have_text("$19.00")
    calls = stripe_calls(sandbox)
    assert len(calls) == 1 and calls[0].form["amount"] == "2000"
    assert at_stripe(sandbox, grace) == 1100 + 2000
    assert page.js_errors == []


def test_a_declined_refund_can_be_sent_again_from_the_same_popup(stripe_page, sandbox,
                                                                 grace):
    page = stripe_page
    sandbox.sandbox.add_fault("stripe", "decline")  # the next refund: 402 card_declined
    browser_login(page, "finance")
    modal = _open_profile(page, "Grace Hopper")
    _open_action(modal, grace, "refund")
    modal.locator("[name=amount]").fill("5.00")
    modal.get_by_role("button", name="Refund", exact=True).click()
    expect(modal.locator(".md-action-error")).to_contain_text("declined")
    expect(modal.locator("[name=amount]")).to_have_value("5.00")

    assert at_stripe(sandbox, grace) == 1100  # declined: nothing refunded
    modal.get_by_role("button", name="Refund", exact=True).click()  # the gateway accepts again
    expect(modal.locator(".md-outcome")).to_contain_text("Refunded $5.00 through Stripe.")
    keys = [c.headers["Idempotency-Key"] for c in stripe_calls(sandbox)]
    assert len(keys) == 2 and keys[0] != keys[1]  # a new attempt, not the declined one again
    assert at_stripe(sandbox, grace) == 1100 + 500


def test_edit_sale_shows_affiliate_and_commission_in_the_profile(page):
    customer = factories.customer(name="Alan Turing", email="alan@example.com")
    tx = factories.payment(customer, 4000, description="Logic course")
    factories.affiliate(rate_bp=1500, name="Bletchley Partners")
    db.session.commit()
    tx_id = tx.id
    browser_login(page)
    modal = _open_profile(page, "Alan Turing")
    row = modal.locator(f"tr[data-transaction-id='{tx_id}']")
    expect(row.locator(".md-affiliate")).to_have_text("—")
    _open_action(modal, tx_id, "affiliate")
    modal.locator(".select2-container").first.click()  # select2's searchable select
    page.locator(".select2-results, .select2-drop").get_by_text("Bletchley Partners").first.click()
    expect(modal.locator("[name=commission]")).to_have_value("6.00")  # 15 % of $40.00
    modal.get_by_role("button", name="Save").click()

    row = modal.locator(f"tr[data-transaction-id='{tx_id}']")
    expect(row.locator(".md-affiliate")).to_contain_text("Bletchley Partners")
    expect(row.locator(".md-affiliate")).to_contain_text("commission $6.00")
    expect(modal.locator(".md-outcome")).to_contain_text("Bletchley Partners")
    db.session.expire_all()
    assert db.session.get(Transaction, tx_id).commission_cents == 600


def test_the_profile_comes_back_on_the_tab_it_was_on(page, grace):
    browser_login(page, "finance")
    customer_id = db.session.get(Transaction, grace).customer_id
    # After an action of a subscription (its return address names the tab):
    page.goto(f"/admin/customer/?profile={customer_id}&tab=subscriptions")
    modal = page.locator(MODAL)
    expect(modal.locator("#md-subscriptions")).to_be_visible()
    expect(modal.locator(".nav-tabs .nav-link.active")).to_contain_text("Subscriptions")

    # Cancel of an action opened while the Subscriptions tab was shown (subscription actions
    # sit there; none exists yet, so a payment's Refund is clicked by script): that tab again.
    modal.locator(f"tr[data-transaction-id='{grace}'] a[data-action=refund]").dispatch_event(
        "click")
    expect(modal.locator("#md-refund-summary")).to_be_visible()
    modal.get_by_role("link", name="Close").click()
    expect(modal.locator("#md-subscriptions")).to_be_visible()
    expect(modal.locator(".nav-tabs .nav-link.active")).to_contain_text("Subscriptions")
    assert page.js_errors == []
