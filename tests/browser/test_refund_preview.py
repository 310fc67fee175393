"""The refund pop-up's preview follows the amount typed (issue 21 item 11): figured by the
server by the refund's own rules, invalid amounts answered with the refusal's message."""
import pytest

from tests import factories
from tests.browser.conftest import browser_login
from models import db

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser


def test_typing_an_amount_updates_the_preview(page):
    ada = factories.customer(name="Ada Lovelace", email="ada@example.com")
    partner = factories.affiliate(rate_bp=1000, name="Bletchley Partners")
    tx = factories.payment(ada, 14900, description="Course", affiliate_id=partner.id,
                           commission_cents=1490)
    factories.payment(ada, 43210, description="Workshop")  # lifetime value $581.10
    db.session.commit()
    browser_login(page, "finance")
    page.goto("/admin/transaction/")
    page.locator(f"a[data-action=refund][href*='/refund/{tx.id}/']").click()
    modal = page.locator("#fa_modal_window")
    preview = modal.locator("#md-refund-consequences")
    expect(preview).to_contain_text("Refunding the full $149.00:")
    expect(preview).to_contain_text("lifetime value $581.10 → $432.10")

    modal.locator("[name=amount]").fill("50.00")

    expect(preview).to_contain_text("Refunding $50.00:")
    expect(preview).to_contain_text("the customer's lifetime value $581.10 → $531.10")
    expect(preview).to_contain_text("the commission of Bletchley Partners goes down by $5.00")
    expect(preview).not_to_contain_text("$149.00")

    modal.locator("[name=amount]").fill("150.00")
    expect(preview).to_have_text("Only $149.00 of this payment is left to refund.")
    expect(preview).to_have_class("alert alert-danger")
    modal.locator("[name=amount]").fill("5o")
    expect(preview).to_have_text("“5o” is not an amount.")
    modal.locator("[name=amount]").fill("0.5")
    expect(preview).to_contain_text("lifetime value $581.10 → $580.60")
    expect(preview).to_have_class("alert alert-warning")
    assert page.js_errors == []
