"""Rules the sandbox keeps as the vendors do (the simulation compares the panel with the
sandbox's state): Stripe resumes a paused subscription on the date it was given; a PayPal
buyer opens one dispute per transaction."""
import pytest

from tests.sandbox.conftest import DAY


def test_a_pause_with_a_resume_date_ends_on_that_date_and_the_renewal_is_charged(sb, accounts):
    sub = accounts["sub"]
    with sb.lock:
        sub["pause_collection"] = {"behavior": "void", "resumes_at": sb.now() + 5 * DAY}
    happened = sb.advance(11 * DAY)
    assert sub["pause_collection"] is None
    assert any("renewed" in line for line in happened), happened


def test_a_pause_without_a_date_leaves_the_renewal_uncharged(sb, accounts):
    sub = accounts["sub"]
    with sb.lock:
        sub["pause_collection"] = {"behavior": "void", "resumes_at": None}
    happened = sb.advance(11 * DAY)
    assert sub["pause_collection"] is not None
    assert any("paused, period not charged" in line for line in happened), happened


def test_a_paypal_transaction_is_disputed_once(sb, accounts):
    capture = accounts["capture"]["id"]
    with sb.lock:
        sb.paypal.open_dispute(capture)
        with pytest.raises(LookupError):
            sb.paypal.open_dispute(capture)
