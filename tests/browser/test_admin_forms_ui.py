"""Issue 21 items 13 and 14 in Chromium: what the admin sees on the Admin users page and the
Edit customer form."""
from sqlalchemy import select

from models import AdminUser, db
from tests.browser.conftest import browser_login
from tests.conftest import make_admin


def _active(email):
    db.session.expire_all()
    return db.session.scalar(select(AdminUser.active).where(AdminUser.email == email))


def test_deactivate_asks_first_and_cancelling_changes_nothing(page):
    make_admin("support", "helper@example.com")
    browser_login(page, "owner")
    page.goto("/admin/users/")
    row = page.locator('tr[data-email="helper@example.com"]')
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()
    page.once("dialog", dismiss)
    row.get_by_role("button", name="Deactivate").click()
    page.wait_for_timeout(200)
    assert asked and "Deactivate helper@example.com?" in asked[0]
    assert _active("helper@example.com") is True

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        row.get_by_role("button", name="Deactivate").click()
    assert "helper@example.com is deactivated" in page.content()
    assert _active("helper@example.com") is False
    assert page.js_errors == []
