"""Cancel Subscription on both gateways: the guide's 10th/20th example with a fixed clock,
cancelling twice, a gateway that cancelled already, undoing a scheduled cancellation."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from actions.errors import InvalidRequest
from actions.subscription_cancel import cancel_subscription, undo_cancel
from models import AuditEvent, SubscriptionChange, db
from models.access import access_ends_at, has_access
from models.sub_state import status_label
from tests.integration.subscription_setup import (RENEWAL, TENTH, configure,  # noqa: F401
                                                  deps_at, finance, make, paypal_setup, setup)

pytestmark = pytest.mark.timeout(60)


def test_the_guides_example_cancelled_on_the_10th_keeps_access_until_the_20th(app, setup,
                                                                            finance):
    result = cancel_subscription(deps_at(app, TENTH), finance, setup.sub_id)

    sub = setup.sub()
    change = db.session.scalar(select(SubscriptionChange))
    assert change.status == "succeeded" and change.kind == "cancel"
    if setup.gateway == "stripe":
        assert setup.effects() == ["cancel_at_period_end"]
        assert (sub.status, sub.cancel_at_period_end) == ("active", True)
        assert status_label(sub, TENTH) == "Cancelled — access until 20 Dec 2026"
        assert result.message.startswith("The subscription cancels on 20 Dec 2026")
    else:
        assert setup.effects() == ["cancel"]  # PayPal cancels at once
        assert (sub.status, sub.access_until) == ("canceled", RENEWAL)
        assert status_label(sub, TENTH) == "Cancelled — access until 20 Dec 2026"
        assert "keeps access until 20 Dec 2026" in result.message
    assert has_access(sub, RENEWAL - timedelta(minutes=1))
    assert not has_access(sub, RENEWAL)
    assert status_label(sub, RENEWAL + timedelta(days=1)) == "Cancelled"
    [(call, key)] = setup.change_calls()
    if setup.gateway == "stripe":
        assert key == change.idempotency_key and f"-change-{change.id}-" in key
    else:  # PayPal declares no PayPal-Request-Id on its subscription verbs
        assert key is None
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "subscription.cancel", AuditEvent.outcome == "succeeded"))
    assert event.actor_email == "finance@example.com"
    assert event.before["status"] == "active"


def test_cancel_now(app, setup, finance, sandbox):
    cancel_subscription(deps_at(app), finance, setup.sub_id, when="now")

    sub = setup.sub()
    ended = TENTH  # now; Stripe says when it ended the subscription, by its clock
    if setup.gateway == "stripe":
        ended_at = sandbox.sandbox.stripe.subscriptions[setup.ref]["ended_at"]
        ended = min(TENTH, datetime.fromtimestamp(ended_at, timezone.utc))
    assert (sub.status, sub.access_until) == ("canceled", ended)
    assert not has_access(sub, TENTH) and status_label(sub, TENTH) == "Cancelled"


def test_cancelling_what_is_cancelled_is_refused_politely(app, setup, finance):
    cancel_subscription(deps_at(app), finance, setup.sub_id, when="now")
    calls = len(setup.fake._fake.calls)

    with pytest.raises(InvalidRequest, match="^This subscription is already cancelled"):
        cancel_subscription(deps_at(app), finance, setup.sub_id, when="now")

    assert len(setup.fake._fake.calls) == calls
    assert db.session.scalar(select(db.func.count(SubscriptionChange.id))) == 1


def test_a_subscription_the_gateway_cancelled_already_is_brought_in_line(app, setup, finance):
    if setup.gateway == "stripe":
        setup.fake.subscriptions[setup.ref]["status"] = "canceled"
    else:
        setup.fake.subscriptions[setup.ref]["status"] = "CANCELLED"

    result = cancel_subscription(deps_at(app), finance, setup.sub_id)

    sub = setup.sub()
    assert sub.status == "canceled" and setup.effects() == []
    assert "says this subscription was already cancelled; our record now says so too" in (
        result.message)


def test_undo_a_scheduled_cancellation_on_stripe(app, setup, finance):
    cancel_subscription(deps_at(app), finance, setup.sub_id)
    if setup.gateway == "paypal":
        with pytest.raises(InvalidRequest):
            undo_cancel(deps_at(app), finance, setup.sub_id)
        return
    sub = setup.sub()
    sub.cancel_at = RENEWAL  # as Stripe's customer.subscription.updated webhook says too
    db.session.commit()

    result = undo_cancel(deps_at(app), finance, setup.sub_id)

    sub = setup.sub()
    assert not sub.cancel_at_period_end and status_label(sub, TENTH) == "Active"
    assert sub.cancel_at is None and access_ends_at(sub) is None
    assert setup.effects() == ["cancel_at_period_end", "undo_cancel"]
    assert result.message == "The cancellation is withdrawn: the subscription renews on " \
                             "20 Dec 2026."


def test_a_scheduled_cancellation_can_be_made_immediate(app, setup, finance):
    cancel_subscription(deps_at(app), finance, setup.sub_id)
    if setup.gateway == "stripe":
        with pytest.raises(InvalidRequest, match="^This subscription already cancels on "
                                                 "20 Dec 2026"):
            cancel_subscription(deps_at(app), finance, setup.sub_id)
        cancel_subscription(deps_at(app), finance, setup.sub_id, when="now")
        assert setup.effects() == ["cancel_at_period_end", "cancel"]
    assert setup.sub().status == "canceled"


def test_cancel_immediately_ends_access_now_where_paypal_had_cancelled_already(
        app, paypal_setup, finance):
    """The member cancelled in their PayPal account (its webhook not here yet), or our own
    earlier call was applied but its answer lost: "Immediately" still means now."""
    paypal_setup.fake.subscriptions[paypal_setup.ref]["status"] = "CANCELLED"

    result = cancel_subscription(deps_at(app), finance, paypal_setup.sub_id, when="now")

    sub = paypal_setup.sub()
    assert (sub.status, sub.access_until) == ("canceled", TENTH)
    assert not has_access(sub, TENTH) and paypal_setup.effects() == []
    assert "already cancelled" in result.message and "access has ended" in result.message


def test_cancelling_a_paused_stripe_subscription_keeps_the_period_paid_for(app, sandbox,
                                                                          finance):
    """Stripe moves a paused subscription's period on without charging it (the renewal's
    invoice is voided): cancelling at the period end must not take that unpaid period as
    paid (the randomized histories found access granted 20 days past the paid period)."""
    configure(app, sandbox)
    setup = make("stripe", sandbox)
    moved_on = RENEWAL + timedelta(days=31)
    there = setup.fake.subscriptions[setup.ref]
    there["pause_collection"] = {"behavior": "void", "resumes_at": None}
    for item in there["items"]["data"]:
        item["current_period_start"] = int(RENEWAL.timestamp())
        item["current_period_end"] = int(moved_on.timestamp())
    sub = setup.sub()
    sub.paused = True
    db.session.commit()

    cancel_subscription(deps_at(app), finance, setup.sub_id, when="period_end")

    sub = setup.sub()
    assert sub.cancel_at_period_end and sub.current_period_end == RENEWAL
    assert has_access(sub, RENEWAL - timedelta(minutes=1))
    assert not has_access(sub, RENEWAL + timedelta(days=1))
