"""The access rule: the guide's 10th/20th example and the status labels."""
from datetime import datetime, timezone

import pytest

from models import Subscription
from models.subscription import SUBSCRIPTION_STATUSES
from models.access import access_ends_at, has_access
from models.sub_state import status_label


def at(day, month=12):
    return datetime(2026, month, day, 12, tzinfo=timezone.utc)


def sub(**fields):
    values = {"status": "active", "cancel_at_period_end": False, "paused": False,
              "current_period_end": at(20), "access_until": None, "pause_resumes_at": None,
              "approval_url": None}
    values.update(fields)
    return Subscription(**values)


def test_renewing_subscription_has_access_with_no_end():
    active = sub()
    assert has_access(active, at(25)) and access_ends_at(active) is None
    assert status_label(active, at(10)) == "Active"


def test_cancelled_on_the_10th_keeps_access_until_the_20th():
    scheduled = sub(cancel_at_period_end=True)
    assert status_label(scheduled, at(10)) == "Cancelled — access until 20 Dec 2026"
    assert has_access(scheduled, at(19)) and not has_access(scheduled, at(20))

    cancelled = sub(status="canceled", access_until=at(20), canceled_at=at(10))
    assert has_access(cancelled, at(10)) and has_access(cancelled, at(19))
    assert status_label(cancelled, at(10)) == "Cancelled — access until 20 Dec 2026"
    assert not has_access(cancelled, at(20))
    assert status_label(cancelled, at(21)) == "Cancelled"


def test_cancelled_with_no_access_left():
    assert not has_access(sub(status="canceled"), at(1))


@pytest.mark.parametrize(("resumes", "label"), [
    (None, "Payments paused"),
    (datetime(2027, 1, 5, tzinfo=timezone.utc), "Payments paused until 5 Jan 2027"),
])
def test_paused_keeps_access_for_the_period_paid(resumes, label):
    paused = sub(paused=True, pause_resumes_at=resumes)
    assert status_label(paused, at(10)) == label
    assert has_access(paused, at(19)) and not has_access(paused, at(21))


# Every status the adapters and the sync write (SUBSCRIPTION_STATUSES: each Stripe and PayPal
# word maps into it, tests/unit/test_status_vocabulary.py) and the access a member has on the
# 15th and on the 21st of a period paid to the 20th.
WRITTEN = {
    "active": (True, True), "trialing": (True, True), "past_due": (True, True),
    "incomplete": (False, False),  # Stripe incomplete, PayPal not yet approved by the payer
    "unpaid": (False, False),  # Stripe unpaid / paused: the renewal was never paid
    "canceled": (True, False),  # access until the end of the period paid for
}


@pytest.mark.parametrize("status", sorted(WRITTEN))
def test_access_for_every_status_written(status):
    written = sub(status=status, access_until=at(20) if status == "canceled" else None,
                  canceled_at=at(10) if status == "canceled" else None)
    assert (has_access(written, at(15)), has_access(written, at(21))) == WRITTEN[status]


@pytest.mark.parametrize("status", ["incomplete", "unpaid"])
def test_no_access_even_when_cancelling_or_paused(status):
    """A flag of a running subscription never gives access to one that was never paid."""
    for flags in ({"cancel_at_period_end": True}, {"paused": True}):
        assert not has_access(sub(status=status, **flags), at(15))


def test_every_status_written_is_covered_here():
    assert set(WRITTEN) == set(SUBSCRIPTION_STATUSES)


def test_paused_until_before_the_renewal_keeps_renewing():
    short_pause = sub(paused=True, pause_resumes_at=at(15))
    assert access_ends_at(short_pause) is None and has_access(short_pause, at(25))
