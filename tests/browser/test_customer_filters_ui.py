"""Issue 21 item 9 in Chromium: the customers list's filters through Flask-Admin's filter menu,
and the optional columns switched on from the Columns menu."""
import re

from playwright.sync_api import expect

from models import db
from tests import factories
from tests.browser.conftest import browser_login


def test_filter_by_country_and_refuse_a_bad_lifetime_value(page):
    factories.customer(name="Amélie Paris", country="FR", lifetime_value_cents=15000)
    factories.customer(name="Bernd Berlin", country="DE", lifetime_value_cents=90000)
    db.session.commit()
    browser_login(page, "support")
    page.goto("/admin/customer/")
    page.get_by_role("link", name="Add Filter").click()
    page.locator("a.dropdown-item.filter", has_text="Country").click()
    # a select2 box over the hidden <select>: choose in the select itself
    page.locator("#filter_form select.filter-val").select_option(label="France", force=True)
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table.model-list tbody td.col-name")
    expect(rows).to_have_count(1)
    expect(rows).to_have_text("Amélie Paris")

    page.goto("/admin/customer/?flt0_2=12,3x")
    expect(page.locator(".alert-danger")).to_contain_text(
        "Lifetime value at least: “12,3x” is not an amount.")
    expect(page.locator("table.model-list tbody td.col-name")).to_have_count(2)
    assert page.js_errors == []


def test_optional_columns_from_the_columns_menu(page):
    plan = factories.plan()
    factories.subscription(factories.customer(name="Sam Subscriber"), plan)
    db.session.commit()
    browser_login(page, "viewer")
    page.goto("/admin/customer/")
    header = page.locator("table.model-list thead")
    expect(header).not_to_contain_text("Next renewal")
    page.get_by_role("button", name="Columns").click()
    page.get_by_label("Subscription status").check()
    page.get_by_label("Next renewal").check()
    page.locator("#md-columns-form").get_by_role("button", name="Apply").click()
    expect(header).to_contain_text("Subscription status")
    expect(header).to_contain_text("Next renewal")
    status = page.locator("table.model-list tbody td.col-subscription_status")
    expect(status).to_have_text(re.compile(r"^\s*Active\s*$"))
    expect(page.locator("table.model-list tbody td.col-next_renewal")).to_have_text(
        re.compile(r"\d{4}"))
    assert page.js_errors == []
