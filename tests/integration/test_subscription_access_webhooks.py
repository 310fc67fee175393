"""Access and statuses as the gateways' webhooks leave them (issue 17, findings 2, 3 and 5):
a member who cancels at PayPal keeps the period paid for, Stripe's `incomplete` and `unpaid`
give no access, a `cancel_at` schedules the end, and a PayPal event keeps the panel's price."""
import time
from datetime import datetime, timezone

from sqlalchemy import select

from models import Subscription, db
from models.access import access_ends_at, has_access
from tests import factories
from tests.fakes import paypal_webhooks as pw
from tests.fakes import stripe_events as se
from tests.webhook_helpers import hook_app, post_stripe, settle  # noqa: F401

import pytest

PAID_TO = datetime(2026, 12, 20, 10, tzinfo=timezone.utc)
FIFTEENTH = datetime(2026, 12, 15, 10, tzinfo=timezone.utc)


def day(n):
    return datetime(2026, 12, n, 10, tzinfo=timezone.utc)


@pytest.fixture
def pp_app(app, paypal_hooks):
    app.config.update(WEBHOOK_RETRY_DELAY=0, WEBHOOK_MAX_ATTEMPTS=3, **paypal_hooks.config())
    yield app
    settle()


def post_paypal(client, evt):
    data = pw.body(evt)
    response = client.post("/webhooks/paypal", data=data, content_type="application/json",
                           headers=pw.sign(data))
    assert response.status_code == 200, response.get_data(as_text=True)


def _paypal_sub(price_cents=3000):
    customer = factories.customer(email="grace@example.com", paypal_payer_id="QYR5Z8XDVJNXQ")
    plan = factories.plan(paypal_plan_id="P-PRO", price_cents=3000)
    sub = factories.subscription(customer, plan, gateway="paypal", gateway_id="I-SUB1",
                                 price_cents=price_cents, current_period_end=PAID_TO,
                                 next_payment_date=PAID_TO)
    db.session.commit()
    return sub.id


def _cancelled_at_paypal():
    """What PayPal sends when the member cancels: no next billing time any more."""
    resource = pw.subscription("I-SUB1", status="CANCELLED")
    resource["billing_info"] = {"last_payment": {"amount": pw.money("30.00", "USD"),
                                                 "time": "2026-11-20T10:00:05Z"},
                                "failed_payments_count": 0}
    resource["status_update_time"] = resource["update_time"] = "2026-12-10T09:00:00Z"
    return resource


def test_a_member_who_cancels_at_paypal_keeps_access_to_the_end_of_the_paid_period(
        pp_app, client):
    sub_id = _paypal_sub()
    post_paypal(client, pw.event("BILLING.SUBSCRIPTION.CANCELLED", _cancelled_at_paypal()))
    settle()
    sub = db.session.get(Subscription, sub_id)
    assert sub.status == "canceled"
    assert has_access(sub, FIFTEENTH)
    assert not has_access(sub, PAID_TO)
    assert access_ends_at(sub) == PAID_TO


def test_a_repeated_paypal_cancellation_keeps_the_first_access_end(pp_app, client):
    sub_id = _paypal_sub()
    post_paypal(client, pw.event("BILLING.SUBSCRIPTION.CANCELLED", _cancelled_at_paypal()))
    settle()
    expired = dict(_cancelled_at_paypal(), status="EXPIRED")
    post_paypal(client, pw.event("BILLING.SUBSCRIPTION.EXPIRED", expired))
    settle()
    assert access_ends_at(db.session.get(Subscription, sub_id)) == PAID_TO


def test_a_paypal_event_keeps_the_price_set_in_the_panel(pp_app, client):
    sub_id = _paypal_sub(price_cents=4000)  # the plan costs $30; the panel set $40
    updated = dict(pw.subscription("I-SUB1"), plan_overridden=True)
    post_paypal(client, pw.event("BILLING.SUBSCRIPTION.UPDATED", updated))
    post_paypal(client, pw.event("BILLING.SUBSCRIPTION.RE-ACTIVATED", pw.subscription("I-SUB1")))
    settle()
    assert db.session.get(Subscription, sub_id).price_cents == 4000


def test_a_paypal_plan_change_takes_the_new_plans_price(pp_app, client):
    sub_id = _paypal_sub(price_cents=4000)
    factories.plan("Gold", 5000, paypal_plan_id="P-GOLD")
    db.session.commit()
    post_paypal(client, pw.event("BILLING.SUBSCRIPTION.UPDATED",
                                 pw.subscription("I-SUB1", plan_id="P-GOLD")))
    settle()
    sub = db.session.get(Subscription, sub_id)
    assert (sub.price_cents, sub.plan.paypal_plan_id) == (5000, "P-GOLD")


def _stripe_event(status, **extra):
    customer = factories.customer(stripe_customer_id="cus_vocab")
    db.session.commit()
    obj = dict(se.subscription("cus_vocab", "sub_vocab", status=status), **extra)
    return customer, obj


@pytest.mark.parametrize("status", ["incomplete", "unpaid", "paused"])
def test_stripe_subscriptions_that_were_never_or_no_longer_paid_give_no_access(
        hook_app, client, status):
    _, obj = _stripe_event(status)
    post_stripe(client, se.event("customer.subscription.updated", obj))
    settle()
    sub = db.session.scalar(select(Subscription))
    now = datetime.now(timezone.utc)
    assert not has_access(sub, now), sub.status


def test_stripe_cancel_at_schedules_the_end_of_access(hook_app, client):
    ends = int(datetime(2026, 1, 25, tzinfo=timezone.utc).timestamp())
    _, obj = _stripe_event("active", cancel_at=ends)
    post_stripe(client, se.event("customer.subscription.updated", obj))
    settle()
    sub = db.session.scalar(select(Subscription))
    assert access_ends_at(sub) == datetime(2026, 1, 25, tzinfo=timezone.utc)
    assert has_access(sub, datetime(2026, 1, 24, tzinfo=timezone.utc))
    assert not has_access(sub, datetime(2026, 1, 25, tzinfo=timezone.utc))


def test_a_stripe_subscription_cancelled_now_at_stripe_ends_access_then(hook_app, client):
    now = int(time.time())
    _, obj = _stripe_event("canceled", canceled_at=now - 60, ended_at=now - 60)
    post_stripe(client, se.event("customer.subscription.deleted", obj))
    settle()
    sub = db.session.scalar(select(Subscription))
    assert not has_access(sub, datetime.now(timezone.utc))
