"""The profile's Timeline tab in Chromium: it fetches its first page when opened, "Older"
appends the next page (no entry twice, newest first), and support adds a note from it and
comes back to the Timeline tab with the note on top."""
from datetime import timedelta

import pytest

from models import Refund, db
from tests import factories
from tests.browser.conftest import browser_login

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = pytest.mark.browser

MODAL = "#fa_modal_window"


@pytest.fixture
def busy_customer():
    """40 payments a day apart, the newest refunded: two pages of 25 in the timeline."""
    customer = factories.customer(name="Ada Lovelace", email="ada@example.com")
    start = factories.BASE_TIME + timedelta(days=100)
    txs = [factories.payment(customer, 1000 + n, created_at=start - timedelta(days=n),
                             description=f"Lesson {n}") for n in range(40)]
    db.session.add(Refund(transaction_id=txs[0].id, amount_cents=500, currency="USD",
                          status="succeeded", created_at=start + timedelta(hours=1)))
    db.session.commit()
    return customer


def _open_timeline(page):
    page.locator("table.model-list tbody tr", has_text="Ada Lovelace").get_by_role(
        "link", name="Profile").click()
    modal = page.locator(MODAL)
    expect(modal.locator("#md-profile")).to_be_visible()
    modal.get_by_role("tab", name="Timeline").click()
    return modal


def test_the_timeline_tab_pages_with_older(page, busy_customer):
    browser_login(page, "viewer")
    modal = _open_timeline(page)
    entries = modal.locator("#md-timeline .md-tl-entry")
    expect(entries).to_have_count(25)
    expect(entries.first).to_contain_text("Refund succeeded")
    expect(entries.first).to_contain_text("$5.00")
    expect(entries.nth(1)).to_contain_text("$10.00")  # the newest payment, after its refund
    expect(modal.locator("#md-note-form")).to_have_count(0)  # a viewer adds no notes
    modal.get_by_role("link", name="Older").click()
    expect(entries).to_have_count(41)
    expect(modal.locator("a.md-timeline-older")).to_have_count(0)  # the first payment reached
    amounts = entries.locator(".md-tl-amount").all_inner_texts()
    assert amounts == ["$5.00"] + [f"${10 + n / 100:.2f}" for n in range(40)]
    assert page.js_errors == []


def test_support_adds_a_note_from_the_timeline(page, busy_customer):
    browser_login(page, "support")
    modal = _open_timeline(page)
    modal.locator("#md-note").fill("Asked for a <b>discount</b>")
    modal.get_by_role("button", name="Add note").click()
    page.wait_for_url("**tab=timeline**")
    expect(modal.locator(".md-outcome")).to_contain_text("Added a note to Ada Lovelace.")
    first = modal.locator("#md-timeline .md-tl-entry").first
    expect(first).to_contain_text("Internal note")
    expect(first.locator(".md-tl-detail")).to_have_text("Asked for a <b>discount</b>")
    expect(first.locator(".md-tl-who")).to_have_text("support@example.com")
    assert page.js_errors == []
