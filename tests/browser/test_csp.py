"""Issue 13: every page of the panel runs under its Content-Security-Policy without a single
violation (Chromium reports each one as a `securitypolicyviolation` event and a console
error), and the pop-ups and menus still work under it."""
import re
from datetime import timedelta

import pytest

from models import Refund, db
from tests import factories
from tests.browser.conftest import browser_login

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser

MODAL = "#fa_modal_window"
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' +
                    (e.sample || '') + ' @' + location.pathname);
});
"""


class Violations:
    """Collects CSP violations from console errors and from the page's event listener."""

    def __init__(self, page):
        self.page, self.console, self.events = page, [], []
        page.add_init_script(LISTEN)
        page.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def collect(self):
        """Events of the current document (call before each navigation)."""
        try:
            self.events += self.page.evaluate("window.__csp || []")
        except Exception:  # the page navigated meanwhile; the console has them too
            pass

    def assert_none(self):
        self.collect()
        assert self.console == [] and self.events == [], (self.console, self.events)


def _visit(page, seen, url):
    seen.collect()
    page.goto(url)
    page.wait_for_load_state("networkidle")


def _open_in_modal(page, link):
    link.click()
    modal = page.locator(MODAL)
    expect(modal).to_have_class(re.compile(r"\bshow\b"))
    expect(modal.locator(".modal-title")).to_be_visible()
    page.wait_for_load_state("networkidle")
    return modal


@pytest.fixture
def panel_data():
    ada = factories.customer(name="Ada Lovelace", email="ada@acme.com")
    paid = factories.payment(ada, 5000, minutes=10, description="Course A")
    factories.payment(ada, 3000, gateway="paypal", minutes=20, description="Course B")
    db.session.add(Refund(transaction_id=paid.id, amount_cents=1000, currency="USD",
                          status="pending", request_key="csp-pending",
                          created_at=factories.BASE_TIME + timedelta(days=2)))
    factories.affiliate(name="Bletchley Partners")
    factories.subscription(ada, factories.plan())
    db.session.commit()
    return paid.id


def test_no_csp_violation_on_any_page(page, panel_data):
    seen = Violations(page)
    _visit(page, seen, "/login")
    browser_login(page, "owner")
    for url in ("/admin/", "/admin/customer/", "/admin/transaction/", "/admin/subscription/",
                "/admin/plan/", "/admin/affiliate/", "/admin/audit/", "/admin/users/",
                "/admin/plan/new/", "/admin/this-page-does-not-exist", "/account/password"):
        _visit(page, seen, url)
    # the styles of the admin pages are applied (the nonce'd <style> block ran)
    _visit(page, seen, "/admin/customer/")
    cell = page.locator("td.list-buttons-column").first
    expect(cell).to_have_css("white-space", "nowrap")

    # the profile pop-up and each row action from it (HTML fragments with their own scripts)
    page.locator("table.model-list tbody tr", has_text="Ada Lovelace") \
        .get_by_role("link", name="Profile").click()
    modal = page.locator(MODAL)
    expect(modal.locator("#md-profile")).to_be_visible()
    row = modal.locator(f"tr[data-transaction-id='{panel_data}']")
    for action in ("invoice", "refund", "check_refund", "affiliate"):
        _visit(page, seen, "/admin/customer/")
        page.locator("table.model-list tbody tr", has_text="Ada Lovelace") \
            .get_by_role("link", name="Profile").click()
        expect(modal.locator("#md-profile")).to_be_visible()
        _open_in_modal(page, row.locator(f"a[data-action={action}]"))
        if action == "affiliate":  # the pop-up's own script ran: select2 replaced the select
            expect(modal.locator(".select2-container").first).to_be_visible()
        if action == "invoice":  # the invoice's <style> applies inside the pop-up
            expect(modal.locator(".md-invoice")).to_have_css("font-size", re.compile(r"^13"))

    # the same actions from the transactions list, and as full pages
    for action in ("invoice", "refund", "check_refund", "affiliate"):
        _visit(page, seen, "/admin/transaction/")
        _open_in_modal(page, page.locator(f"a[data-action={action}]").first)
    assert page.js_errors == []
    for action in ("invoice", "refund", "check_refund", "affiliate"):
        _visit(page, seen, f"/admin/transaction/action/{action}/{panel_data}/")
    seen.assert_none()


def test_menus_with_inline_handlers_work_without_violation(page, panel_data):
    """Flask-Admin's filter menu and bulk-action menu use fixed inline handlers."""
    seen = Violations(page)
    browser_login(page, "owner")
    _visit(page, seen, "/admin/transaction/")
    page.get_by_role("link", name="Add Filter").click()
    page.locator("a.dropdown-item.filter").first.click()
    expect(page.locator("#filter_form .filter-op").first).to_be_visible()
    assert page.url.endswith("/admin/transaction/")  # no javascript: navigation happened

    _visit(page, seen, "/admin/customer/")
    page.locator("input.action-checkbox").first.check()
    page.locator("a.dropdown-toggle", has_text="With selected").click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_download() as download:
        page.locator("a.dropdown-item", has_text="Export selected").click()
    assert download.value.suggested_filename.endswith(".csv")
    seen.assert_none()
    assert page.js_errors == []


def test_no_violation_on_admin_users_and_set_password_pages(page, app):
    seen = Violations(page)
    browser_login(page, "owner")
    _visit(page, seen, "/admin/users/")
    page.get_by_label("Email").fill("new@example.com")
    page.get_by_role("button", name="Invite").click()
    link = re.search(r"http://\S+/set-password/[\w-]+", page.locator(".alert-success")
                     .inner_text()).group(0)
    page.get_by_role("button", name="Log out").click()
    _visit(page, seen, link)
    page.get_by_label("New password").fill("a good long password")
    page.get_by_label("Repeat the password").fill("a good long password")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".alert-success")).to_contain_text("Your password is set")
    page.get_by_label("Email").fill("new@example.com")
    page.get_by_label("Password").fill("a good long password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")  # Home
    seen.assert_none()


def test_the_detector_sees_a_violation(page):
    """The listener above is not blind: an injected handler and a foreign image are caught."""
    seen = Violations(page)
    browser_login(page, "viewer")
    page.evaluate("""() => {
        const b = document.createElement('button');
        b.id = 'md-injected'; b.setAttribute('onclick', 'window.__ran = 1');
        document.body.appendChild(b);
        const img = document.createElement('img');
        img.src = 'https://example.invalid/pixel.png';
        document.body.appendChild(img);
    }""")
    page.click("#md-injected")
    page.wait_for_function("() => window.__csp.length >= 2")
    assert page.evaluate("window.__ran") is None  # the injected handler did not run
    with pytest.raises(AssertionError):
        seen.assert_none()
    assert any(e.startswith("img-src") for e in seen.events)
    assert any(e.startswith("script-src-attr") for e in seen.events)
