"""Sales > Customers in a real browser: what an admin sees and clicks, per the dashboard guide."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Customer, Refund, Transaction, db
from tests import factories
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD, make_admin
from tests.gateway_sandbox import refunded_cents, stripe_settings

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser

MODAL = "#fa_modal_window"


def _no_js_errors(page):
    assert page.js_errors == [], f"JavaScript errors on the page: {page.js_errors}"


def _names_in_order(page):
    return page.locator("table.model-list tbody td.col-name").all_inner_texts()


def _settled_screenshot(page, path):
    """A screenshot once the pop-up's fade-in has finished."""
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#fa_modal_window')).opacity === '1'")
    page.screenshot(path=path)


def _click_in_modal(modal, link):
    """Click a modal-opening link inside the open pop-up: its content must replace the pop-up's."""
    link.click()
    expect(modal, "the pop-up closed when a button inside it was clicked").to_have_class(
        re.compile(r"\bshow\b"))


def _open_profile(page, name):
    """Click the Profile button of `name`'s row; returns the modal, its content loaded."""
    row = page.locator("table.model-list tbody tr", has_text=name)
    row.get_by_role("link", name="Profile").click()
    modal = page.locator(MODAL)
    expect(modal.locator("#md-profile")).to_be_visible()
    expect(modal.locator(".modal-title")).to_contain_text(name)
    return modal


@pytest.fixture
def profile_customer():
    """Ada: an older Stripe payment partly refunded, a newer PayPal one, a quarterly plan."""
    ada = factories.customer(name="Ada Lovelace", email="ada@acme.com")
    old = factories.payment(ada, 5000, gateway="stripe", minutes=10, description="Course A")
    factories.payment(ada, 3000, gateway="paypal", minutes=20, description="Course B")
    db.session.add(Refund(transaction_id=old.id, amount_cents=1000, currency="USD",
                          status="succeeded", reason="requested_by_customer",
                          created_at=factories.BASE_TIME + timedelta(days=2)))
    old.refunded_cents = 1000
    ada.lifetime_value_cents -= 1000  # 8000 paid - 1000 refunded
    quarterly = factories.plan(name="Quarterly Club", price_cents=12000, interval="month",
                               interval_count=3)
    factories.subscription(ada, quarterly)
    db.session.commit()
    return ada


def test_login_then_sales_customers_with_the_sales_menu(page):
    user = make_admin("owner")
    page.goto("/admin/customer/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".alert-danger")).to_have_text("Wrong email or password.")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/customer/$"))
    page.wait_for_load_state()  # Bootstrap's dropdown script is in place
    navbar = page.locator("nav.navbar")
    sales = navbar.get_by_role("link", name="Sales", exact=True)
    expect(sales).to_be_visible()
    sales.click()
    menu = navbar.locator(".dropdown-menu.show")
    for item in ("Customers", "Transactions", "Subscriptions"):
        expect(menu.get_by_role("link", name=item, exact=True)).to_be_visible()
    expect(navbar).to_contain_text("owner@example.com (owner)")
    _no_js_errors(page)


def test_lifetime_value_sorts_and_search_finds_name_and_email(page):
    for name, email, ltv in [("John Smith", "john@acme.com", 2500),
                             ("Mary Smithson", "mary@example.org", 9900),
                             ("Zoe Brown", "zoe@acme.com", 500),
                             ("Carl Jones", "carl@example.net", 4000)]:
        factories.customer(name=name, email=email, lifetime_value_cents=ltv)
    db.session.commit()
    browser_login(page)

    header = page.locator("table.model-list thead").get_by_role("link", name="Lifetime Value")
    header.click()  # the first click puts the best customers first ...
    expect(page).to_have_url(re.compile(r"desc=1"))
    assert _names_in_order(page) == ["Mary Smithson", "Carl Jones", "John Smith", "Zoe Brown"]
    expect(page.locator("table.model-list tbody td.col-lifetime_value_cents").first).to_have_text("$99.00")
    header = page.locator("table.model-list thead").get_by_role("link", name="Lifetime Value")
    header.click()  # ... the second one reverses the order
    expect(page).not_to_have_url(re.compile(r"desc=1"))
    assert _names_in_order(page) == ["Zoe Brown", "John Smith", "Carl Jones", "Mary Smithson"]

    search = page.get_by_role("textbox", name="Name or email")
    search.fill("smi")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"search=smi"))
    assert sorted(_names_in_order(page)) == ["John Smith", "Mary Smithson"]

    search = page.get_by_role("textbox", name="Name or email")
    search.fill("@acme.com")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"search=%40acme.com"))
    assert sorted(_names_in_order(page)) == ["John Smith", "Zoe Brown"]
    _no_js_errors(page)


def test_profile_popup_shows_value_transactions_and_subscriptions(page, profile_customer):
    browser_login(page)
    row = page.locator("table.model-list tbody tr", has_text="Ada Lovelace")
    # The Profile button sits in the row's last cell, at the table's right edge.
    last_cell = row.locator("td").last
    expect(last_cell.get_by_role("link", name="Profile")).to_be_visible()
    button_box = last_cell.get_by_role("link", name="Profile").bounding_box()
    table_box = page.locator("table.model-list").bounding_box()
    assert table_box["x"] + table_box["width"] - (button_box["x"] + button_box["width"]) < 40

    modal = _open_profile(page, "Ada Lovelace")
    expect(modal.locator(".md-avatar-initials")).to_have_text("AL")
    expect(modal.locator("#md-ltv")).to_have_text("$70.00")
    expect(modal.locator("#md-profile")).to_contain_text("ada@acme.com")

    transactions = modal.locator("#md-transactions tbody tr")
    expect(transactions).to_have_count(2)
    expect(transactions.nth(0)).to_contain_text("Course B")  # newest first
    expect(transactions.nth(0).locator("td").nth(3)).to_have_text("PayPal")
    expect(transactions.nth(1)).to_contain_text("Course A")
    expect(transactions.nth(1).locator("td").nth(3)).to_have_text("Stripe")
    expect(transactions.nth(1).locator(".md-refund")).to_contain_text("Refund $10.00 · succeeded")
    expect(transactions.nth(1)).to_contain_text("partially refunded")
    _settled_screenshot(page, "/tmp/md-profile.png")

    modal.get_by_role("tab", name=re.compile("Subscriptions")).click()
    subscriptions = modal.locator("#md-subscriptions")
    expect(subscriptions).to_be_visible()
    headers = subscriptions.locator("thead th").all_inner_texts()
    assert headers[:6] == ["Name", "Status", "Total", "Cycle", "Start Date", "Next Payment Date"]
    cells = subscriptions.locator("tbody tr").first.locator("td")
    expect(cells.nth(0)).to_contain_text("Quarterly Club")
    expect(cells.nth(1)).to_have_text("Active")
    expect(cells.nth(2)).to_have_text("$120.00")
    expect(cells.nth(3)).to_have_text("Every 3 months")
    expect(cells.nth(4)).to_have_text("1 Jan 2026")  # the one day format (issue 21 item 15)
    expect(cells.nth(5)).to_have_text("31 Jan 2026")
    _no_js_errors(page)


def test_partial_refund_from_the_profile_updates_the_profile(app, page, sandbox):
    app.config.update(stripe_settings(sandbox, STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=2))
    grace = factories.customer(name="Grace Hopper", email="grace@example.com")
    factories.payment(grace, 2500, description="Workshop")
    tx = factories.payment(grace, 5000, description="Compiler course")
    db.session.commit()
    tx_id, grace_id, tx_ref = tx.id, grace.id, tx.gateway_ref  # at the sandbox too
    browser_login(page, "finance")

    modal = _open_profile(page, "Grace Hopper")
    expect(modal.locator("#md-ltv")).to_have_text("$75.00")
    _click_in_modal(modal, modal.locator(f"tr[data-transaction-id='{tx_id}'] a[data-action=refund]"))
    expect(modal.locator("#md-refund-summary")).to_be_visible()
    expect(modal.locator("#md-left")).to_have_text("$50.00")
    consequences = modal.locator("#md-refund-consequences")
    expect(consequences).to_contain_text("lifetime value $75.00 → $25.00")
    expect(consequences).to_contain_text("This cannot be undone")
    _settled_screenshot(page, "/tmp/md-refund.png")

    modal.locator("[name=amount]").fill("20.00")
    modal.get_by_role("button", name="Refund", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Refunded $20.00 through Stripe.")
    expect(page).to_have_url(re.compile(rf"profile={grace_id}"))
    # The list reopens the profile after the action.
    expect(modal.locator("#md-profile")).to_be_visible()
    expect(modal.locator("#md-ltv")).to_have_text("$55.00")
    expect(modal.locator(f"tr[data-transaction-id='{tx_id}'] .md-refund")).to_contain_text(
        "Refund $20.00 · succeeded")

    calls = [c for c in sandbox.sandbox.calls if c.vendor == "stripe"]
    assert len(calls) == 1
    assert calls[0].form["amount"] == "2000"
    db.session.expire_all()
    assert db.session.get(Transaction, tx_id).refunded_cents == 2000
    assert refunded_cents(sandbox, "stripe", tx_ref) == 2000
    _no_js_errors(page)


def test_edit_customer_details_and_avatar_from_the_profile(page, tmp_path):
    from PIL import Image

    avatar = tmp_path / "avatar.png"
    Image.new("RGB", (64, 48), (30, 120, 200)).save(avatar)
    factories.customer(name="Linus Pauling", email="linus@example.com", company="Old Co")
    db.session.commit()
    browser_login(page, "support")

    modal = _open_profile(page, "Linus Pauling")
    expect(modal.locator(".md-avatar-initials")).to_be_visible()
    modal.get_by_role("link", name="Edit customers details").click()
    expect(page.get_by_label("Company", exact=True)).to_have_value("Old Co")
    page.get_by_label("Company", exact=True).fill("Caltech Labs")
    page.locator("input[type=file][name=avatar]").set_input_files(str(avatar))
    page.get_by_role("button", name=re.compile(r"^save$", re.I)).first.click()

    # (Flask-Admin adds its own "Record was successfully saved." next to this one.)
    expect(page.locator(".alert-success")).to_contain_text("Record was successfully saved.")
    expect(modal.locator("#md-profile")).to_be_visible()
    expect(modal.locator("#md-profile")).to_contain_text("Caltech Labs")
    image = modal.locator("img.md-avatar")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 0
    db.session.expire_all()
    assert db.session.scalar(select(Customer.company).where(Customer.name == "Linus Pauling")) \
        == "Caltech Labs"
    _no_js_errors(page)


def test_edit_sale_fills_the_commission_from_the_affiliate_rate(page):
    cust = factories.customer(name="Alan Turing", email="alan@example.com")
    tx = factories.payment(cust, 4000, description="Logic course")
    factories.affiliate(rate_bp=1500, name="Bletchley Partners")
    factories.affiliate(rate_bp=500, name="Enigma Deals")
    db.session.commit()
    tx_id = tx.id
    browser_login(page)

    modal = _open_profile(page, "Alan Turing")
    _click_in_modal(modal, modal.locator(f"tr[data-transaction-id='{tx_id}'] a[data-action=affiliate]"))
    expect(modal.locator(".modal-title")).to_have_text("Edit Sale")
    commission = modal.locator("[name=commission]")
    expect(commission).to_have_value("0.00")
    select2 = modal.locator(".select2-container")
    if select2.count():  # select2 applied: pick through its widget
        select2.first.click()
        page.locator(".select2-results, .select2-drop").get_by_text("Bletchley Partners").first.click()
    else:
        modal.locator("select[name=affiliate]").select_option(label="Bletchley Partners (15.00 %)")
    expect(commission).to_have_value("6.00")  # 15 % of $40.00

    modal.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "The sale now goes to Bletchley Partners with a commission of $6.00.")
    db.session.expire_all()
    assert db.session.get(Transaction, tx_id).commission_cents == 600
    _no_js_errors(page)
