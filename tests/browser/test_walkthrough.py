"""What a new user stumbled on (issue 12), checked in Chromium: numbers, words and labels."""
import re

import pytest

from models import Subscription, db
from models.dates import format_day
from models.sub_state import STATES
from sqlalchemy import select
from tests import factories
from tests.browser.conftest import browser_login

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser


def _open_profile(page, name):
    page.locator("table.model-list tbody tr", has_text=name).get_by_role(
        "link", name="Profile").click()
    modal = page.locator("#fa_modal_window")
    expect(modal.locator("#md-profile")).to_be_visible()
    return modal


def test_other_currencies_are_shown_beside_the_lifetime_value_never_added(page):
    eva = factories.customer(name="Eva Euro", email="eva@example.de")
    # settled in their own currencies (a euro and a pound balance): not counted in dollars
    factories.payment(eva, 4900, currency="EUR", settlement_currency="EUR")
    factories.payment(eva, 2000, currency="EUR", settlement_currency="EUR")
    factories.payment(eva, 9900, currency="GBP", settlement_currency="GBP")
    factories.payment(eva, 1000, currency="EUR", status="failed",
                      settlement_currency="EUR")  # not paid: not shown
    factories.payment(factories.customer(name="Dan Dollar"), 1500)
    db.session.commit()
    browser_login(page)

    row = page.locator("table.model-list tbody tr", has_text="Eva Euro")
    cell = row.locator("td.col-lifetime_value_cents")
    expect(cell).to_contain_text("$0.00")
    expect(cell.locator(".md-uncounted")).to_have_text(["+ €69.00 not counted",
                                                        "+ £99.00 not counted"])
    assert "other currencies" in cell.locator(".md-uncounted").first.get_attribute("title")
    dan = page.locator("table.model-list tbody tr", has_text="Dan Dollar")
    expect(dan.locator(".md-uncounted")).to_have_count(0)

    modal = _open_profile(page, "Eva Euro")
    expect(modal.locator("#md-ltv")).to_have_text("$0.00")
    expect(modal.locator(".md-uncounted")).to_have_text(["+ €69.00 not counted",
                                                         "+ £99.00 not counted"])
    expect(modal.locator(".md-uncounted").first).to_be_visible()


def test_search_boxes_say_what_they_search(page):
    browser_login(page)
    expect(page.locator("input[name=search]")).to_have_attribute("placeholder", "Name or email")
    for url in ("/admin/transaction/", "/admin/subscription/"):
        page.goto(url)
        expect(page.locator("input[name=search]")).to_have_attribute(
            "placeholder", "Customer name or email")


def test_one_status_label_in_the_subscriptions_list_its_filter_and_the_profile(page):
    plan = factories.plan()
    for name, status in [("Al Active", "active"), ("Tia Trial", "trialing"),
                         ("Pat Pastdue", "past_due"), ("Cy Cancelled", "canceled")]:
        factories.subscription(factories.customer(name=name), plan, status=status)
    db.session.commit()
    due = format_day(db.session.scalars(select(Subscription).where(
        Subscription.status == "past_due")).one().current_period_end)
    labels = ["Active", "Trial", f"Past due since {due}", "Cancelled"]
    browser_login(page)

    page.goto("/admin/subscription/?sort=1")
    cells = page.locator("table.model-list tbody td.col-status")
    assert sorted(t.strip() for t in cells.all_inner_texts()) == sorted(labels)
    # The Status filter offers the same words, one value per state (models/sub_state.py).
    page.goto("/admin/subscription/?flt0_1=past_due")
    expect(page.locator("table.model-list tbody tr")).to_have_count(1)
    options = page.locator("select.filter-val").first.locator("option").all_inner_texts()
    assert [o.strip() for o in options] == list(STATES.values())
    expect(page.locator("table.model-list tbody td.col-status")).to_have_text(labels[2])

    page.goto("/admin/customer/")
    for name, label in [("Pat Pastdue", labels[2]), ("Cy Cancelled", "Cancelled")]:
        modal = _open_profile(page, name)
        modal.get_by_role("tab", name=re.compile("Subscriptions")).click()
        expect(modal.locator("#md-subscriptions tbody tr td").nth(1)).to_have_text(label)
        modal.locator(".modal-header .close, [data-dismiss=modal]").first.click()
        expect(modal).to_be_hidden()


def test_transactions_list_fits_1366_pixels(page):
    customer = factories.customer(name="Maximilian Alexander Featherstonehaugh-Worthington",
                                  email="maximilian.featherstonehaugh-worthington@example.com")
    affiliate = factories.affiliate(name="Very Long Affiliate Partner Company Name Ltd")
    tx = factories.payment(customer, 1234567, description="Annual membership, premium tier "
                           "with coaching", affiliate_id=affiliate.id, commission_cents=123456)
    from models import Refund
    db.session.add(Refund(transaction_id=tx.id, amount_cents=1000, currency="USD",
                          status="succeeded", created_at=factories.BASE_TIME))
    db.session.add(Refund(transaction_id=tx.id, amount_cents=500, currency="USD",
                          status="pending"))  # so that "Check refund" is offered too
    db.session.commit()
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page)
    page.goto("/admin/transaction/")
    expect(page.locator("table.model-list tbody tr")).to_have_count(1)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, "
                           "document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] == 1366, f"page is {widths[0]} px wide in a 1366 px window"
    # Nor does the table scroll inside its own box.
    for box in page.locator("table.model-list, .table-responsive").all():
        scroll, client = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert scroll <= client, f"the list scrolls sideways: {scroll} px in {client} px"
    # Every row action is on screen, not cut off at the right.
    for link in page.locator("table.model-list tbody td.list-buttons-column a").all():
        box = link.bounding_box()
        assert box["x"] + box["width"] <= 1366


def test_favicon_is_served_and_linked(page):
    browser_login(page)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/admin/customer/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    for url in (href, "/favicon.ico"):
        response = page.request.get(url)
        assert response.status == 200 and response.body()[:4] == b"\0\0\1\0", url
    page.wait_for_load_state("networkidle")
    assert missing == []


def test_edit_sale_as_a_full_page_fills_in_the_commission(page):
    """Without the pop-up (a link opened in a new tab), the Edit Sale page's script waits for
    jQuery instead of failing with "$ is not defined"."""
    customer = factories.customer(name="Grace Hopper")
    tx = factories.payment(customer, 10000)
    partner = factories.affiliate(rate_bp=2500, name="Cobol Partners")
    db.session.commit()
    browser_login(page, "finance")
    page.goto(f"/admin/transaction/action/affiliate/{tx.id}/")
    expect(page.locator("#md-action-form")).to_be_visible()
    page.evaluate("id => $('[name=affiliate]').val(String(id)).trigger('change')", partner.id)
    expect(page.locator("[name=commission]")).to_have_value("25.00")
    assert page.js_errors == []
