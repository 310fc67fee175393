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


def test_refused_edit_keeps_the_chosen_avatar_and_says_what_is_wrong(page, tmp_path):
    import re

    from PIL import Image
    from playwright.sync_api import expect

    from models import Customer
    from tests import factories

    avatar = tmp_path / "avatar.png"
    Image.new("RGB", (64, 48), (30, 120, 200)).save(avatar)
    customer = factories.customer(name="Linus Pauling", email="linus@example.com")
    db.session.commit()
    browser_login(page, "support")
    page.goto(f"/admin/customer/edit/?id={customer.id}")
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("VAT Number").fill("GB123456789")
    page.locator("input[type=file][name=avatar]").set_input_files(str(avatar))
    page.get_by_role("button", name=re.compile(r"^save$", re.I)).first.click()

    said = "GB123456789: the check digits are wrong"
    expect(page.locator(".alert-danger").filter(has_text="Not saved")).to_contain_text(said)
    kept = page.locator("#md-kept-avatar")
    expect(kept).to_be_visible()
    page.wait_for_function("img => img.complete", arg=kept.element_handle())
    assert kept.evaluate("img => img.naturalWidth") == 64  # the image chosen

    page.get_by_label("VAT Number").fill("GB 980 7806 84")
    page.get_by_role("button", name=re.compile(r"^save$", re.I)).first.click()
    expect(page.locator(".alert-success")).to_contain_text("Record was successfully saved.")
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert saved.vat_number == "GB 980 7806 84" and saved.avatar
    assert page.js_errors == []
