"""Subscription actions from the profile pop-up in a real browser: open, read the
consequences, save, see the new state in the Subscriptions tab."""
import re

import pytest

from models import db
from tests import factories
from tests.browser.conftest import browser_login
from tests.integration.subscription_setup import configure, make

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

MODAL = "#fa_modal_window"


@pytest.fixture
def stripe_sub(app, sandbox):
    configure(app, sandbox)
    return make("stripe", sandbox)


@pytest.fixture
def paypal_sub(app, sandbox):
    configure(app, sandbox)
    return make("paypal", sandbox)


def open_action(page, setup, action):
    """Log in as finance, open Ada's profile, its Subscriptions tab, then `action`'s pop-up."""
    browser_login(page, "finance")
    page.locator("table.model-list tbody tr", has_text="Ada Lovelace").get_by_role(
        "link", name="Profile").click()
    modal = page.locator(MODAL)
    expect(modal.locator("#md-profile")).to_be_visible()
    modal.get_by_role("tab", name=re.compile("Subscriptions")).click()
    modal.locator(f"tr[data-subscription-id='{setup.sub_id}'] a[data-action={action}]").click()
    expect(modal.locator("#md-action-form")).to_be_visible()
    return modal


def save_and_see(page, modal, button, flash, status):
    """SAVE, read the flash, reopen the tab and read the subscription's status there."""
    modal.get_by_role("button", name=button).click()
    expect(page.locator(".alert-success, .alert-info").first).to_contain_text(flash)
    expect(modal.locator("#md-profile")).to_be_visible()
    modal.get_by_role("tab", name=re.compile("Subscriptions")).click()
    row = modal.locator("#md-subscriptions tbody tr").first
    expect(row.locator(".md-sub-status")).to_contain_text(status)
    assert page.js_errors == []
    return row


def test_edit_price_now_with_stripes_preview(page, stripe_sub):
    modal = open_action(page, stripe_sub, "subscription_price")
    expect(modal.locator(".md-action-summary")).to_contain_text("$30.00")
    modal.locator("[name=amount]").fill("45.00")
    modal.locator("[name=effective]").select_option("now")
    expect(modal.locator("#md-preview")).to_contain_text(re.compile(r"Charged now: \$\d+\.\d\d"))
    expect(modal.locator("#md-preview")).to_contain_text("$45.00 per cycle")

    row = save_and_see(page, modal, "Save", "now costs $45.00", "Active")
    expect(row).to_contain_text("$45.00")
    assert len(stripe_sub.fake.invoices) == 1


def test_edit_price_on_paypal_states_the_10_day_rule(page, paypal_sub):
    modal = open_action(page, paypal_sub, "subscription_price")
    expect(modal.locator(".md-consequences")).to_contain_text("10 days")
    modal.locator("[name=amount]").fill("35.00")
    expect(modal.locator("#md-preview")).to_contain_text("New amount: $35.00")

    row = save_and_see(page, modal, "Save", "costs $35.00 from the renewal", "Active")
    expect(row).to_contain_text("$35.00")
    assert paypal_sub.fake.prices[paypal_sub.ref] == ("35.00", "USD")


def test_upgrade_plan_with_proration_preview(page, stripe_sub):
    modal = open_action(page, stripe_sub, "subscription_plan")
    modal.locator("[name=proration]").select_option("always_invoice")
    expect(modal.locator("#md-preview")).to_contain_text("New plan “Gold”: $50.00 per cycle")
    expect(modal.locator("#md-preview")).to_contain_text("Charged now: $")

    row = save_and_see(page, modal, "Save", "now on “Gold”", "Active")
    expect(row).to_contain_text("Gold")


def test_edit_affiliate(page, stripe_sub):
    partner = factories.affiliate(name="Partner Co")
    db.session.commit()
    modal = open_action(page, stripe_sub, "subscription_affiliate")
    expect(modal.locator(".md-consequences")).to_contain_text("Past sales keep their affiliate")
    modal.locator("select[name=affiliate]").select_option(str(partner.id), force=True)

    row = save_and_see(page, modal, "Save", "now credit Partner Co", "Active")
    expect(row).to_contain_text("affiliate Partner Co")


def test_cancel_on_paypal_keeps_access_until_the_next_billing_time(page, paypal_sub):
    modal = open_action(page, paypal_sub, "subscription_cancel")
    expect(modal.locator(".md-consequences")).to_contain_text("PayPal cancels at once")
    expect(modal.locator(".md-consequences")).to_contain_text("20 Dec 2026")
    expect(modal.locator("[name=when]")).to_have_value("period_end")

    save_and_see(page, modal, "Cancel subscription", "keeps access until 20 Dec 2026",
                 "Cancelled — access until 20 Dec 2026")


def test_cancel_at_period_end_then_undo_on_stripe(page, stripe_sub):
    modal = open_action(page, stripe_sub, "subscription_cancel")
    expect(modal.locator(".md-consequences")).to_contain_text("access ends on 20 Dec 2026")
    row = save_and_see(page, modal, "Cancel subscription", "cancels on 20 Dec 2026",
                       "Cancelled — access until 20 Dec 2026")

    row.locator("a[data-action=subscription_undo_cancel]").click()
    expect(modal.locator(".md-consequences")).to_contain_text("renews then")
    save_and_see(page, modal, "Keep the subscription", "The cancellation is withdrawn", "Active")
    assert stripe_sub.effects() == ["cancel_at_period_end", "undo_cancel"]


def test_pause_then_resume_payments(page, stripe_sub):
    modal = open_action(page, stripe_sub, "subscription_pause")
    expect(modal.locator(".md-consequences")).to_contain_text("keeps access until 20 Dec 2026")
    modal.locator("[name=resumes_on]").fill("2027-01-05")
    row = save_and_see(page, modal, "Save", "paused until 5 Jan 2027",
                       "Payments paused until 5 Jan 2027")

    row.locator("a[data-action=subscription_resume]").click()
    expect(modal.locator(".md-consequences")).to_contain_text("charged $30.00 again")
    save_and_see(page, modal, "Save", "collected again", "Active")
    assert stripe_sub.effects() == ["pause", "resume"]
