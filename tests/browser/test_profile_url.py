"""The open profile is in the URL (issue 21 item 8): customers' names in Transactions and
Subscriptions open it, ?profile=<id> names it while it is open (a link to share), closing it
takes that away (a reload does not reopen it), and a shared link opens it."""
import re

import pytest

from models import db
from tests import factories
from tests.browser.conftest import browser_login

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser


@pytest.fixture
def ada():
    ada = factories.customer(name="Ada Lovelace", email="ada@example.com")
    factories.payment(ada, 14900, description="Course")
    factories.subscription(ada, factories.plan(name="Pro Monthly"))
    factories.customer(name="Grace Hopper", email="grace@example.com")
    db.session.commit()
    return ada.id


def _profile_param(page):
    match = re.search(r"[?&]profile=([^&#]*)", page.url)
    return match.group(1) if match else None


@pytest.mark.parametrize("listing", ["/admin/transaction/", "/admin/subscription/"])
def test_a_name_in_the_list_opens_the_profile_and_the_url_names_it(page, ada, listing):
    browser_login(page, "viewer")
    page.goto(listing + "?page_size=20")
    modal = page.locator("#fa_modal_window")

    page.locator("table.model-list td.col-customer").get_by_role(
        "link", name="Ada Lovelace").click()

    expect(modal.locator("#md-profile")).to_be_visible()
    expect(modal.locator(".modal-title")).to_contain_text("Ada Lovelace")
    assert _profile_param(page) == str(ada)
    assert "page_size=20" in page.url  # the list's own state stays
    shared = page.url

    modal.locator(".modal-header .close").click()
    expect(modal).to_be_hidden()
    page.wait_for_url(lambda url: "profile=" not in url)  # once Bootstrap says it is hidden
    assert "page_size=20" in page.url
    page.reload()
    expect(page.locator("table.model-list")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(modal).to_be_hidden()  # closed stays closed

    page.goto(shared)  # the link shared while it was open
    expect(modal.locator("#md-profile")).to_be_visible()
    expect(modal.locator(".modal-title")).to_contain_text("Ada Lovelace")
    assert page.js_errors == []


def test_back_closes_the_profile_and_forward_reopens_it(page, ada):
    browser_login(page, "viewer")
    page.goto("/admin/customer/")
    modal = page.locator("#fa_modal_window")
    page.locator("table.model-list tbody tr", has_text="Ada Lovelace").get_by_role(
        "link", name="Profile").click()
    expect(modal.locator("#md-profile")).to_be_visible()
    assert _profile_param(page) == str(ada)

    page.go_back()
    expect(modal).to_be_hidden()
    page.wait_for_load_state("networkidle")
    assert _profile_param(page) is None
    page.go_forward()
    expect(modal.locator(".modal-title")).to_contain_text("Ada Lovelace")
    assert _profile_param(page) == str(ada)
    assert page.js_errors == []


def test_a_deep_link_to_no_customer_opens_nothing_harmful(page, ada):
    browser_login(page, "viewer")
    page.goto("/admin/subscription/?profile=abc")
    expect(page.locator("table.model-list")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#fa_modal_window")).to_be_hidden()
    assert page.js_errors == []
