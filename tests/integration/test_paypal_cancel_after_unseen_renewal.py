"""A member cancels at PayPal just after a renewal whose own events have not arrived yet
(webhooks come in any order, and a cancellation is final: the renewal's state arriving after
it changes nothing). The cancelled subscription's last payment still shows the renewal, so
access lasts a cycle from that payment, not to the end of the period before."""
from datetime import datetime

import pytest
from sqlalchemy import select

from models import Subscription, db
from models.access import has_access
from tests.fakes import paypal_webhooks as pw
from tests.webhook_helpers import events, settle


def _post(client, evt):
    data = pw.body(evt)
    return client.post("/webhooks/paypal", data=data, content_type="application/json",
                       headers=pw.sign(data))


def _at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def pp_app(app, paypal_hooks):
    app.config.update(WEBHOOK_RETRY_DELAY=0, WEBHOOK_MAX_ATTEMPTS=3, **paypal_hooks.config())
    paypal_hooks.objects["/v1/billing/plans/P-PRO"] = pw.plan("P-PRO", "19.00")
    return app


def _paid(next_billing, paid_at):
    """billing_info: paid at `paid_at`, next billed at `next_billing` (None: cancelled)."""
    info = {"failed_payments_count": 0,
            "last_payment": {"amount": pw.money("19.00", "USD"), "time": paid_at}}
    return dict(info, next_billing_time=next_billing) if next_billing else info


@pytest.mark.parametrize("paid_at, until", [
    ("2026-03-01T10:00:00Z", "2026-04-01T10:00:00Z"),  # charged as the period ended
    ("2026-03-01T12:30:00Z", "2026-04-01T12:30:00Z"),  # charged later that day
])
def test_a_cancellation_arriving_before_the_renewal_keeps_the_renewed_period(
        pp_app, client, paypal_hooks, paid_at, until):
    paid_to_mar = dict(pw.subscription("I-LATE"),  # paid until 1 March, as the panel knows it
                       billing_info=_paid("2026-03-01T10:00:00Z", "2026-02-01T10:00:00Z"))
    _post(client, pw.event("BILLING.SUBSCRIPTION.UPDATED", paid_to_mar,
                           create_time="2026-02-01T10:00:01Z"))
    settle()
    renewed = dict(paid_to_mar, billing_info=_paid("2026-04-01T10:00:00Z", paid_at))  # 1 April
    cancelled = dict(renewed, status="CANCELLED", status_update_time="2026-03-05T08:00:00Z",
                     billing_info=_paid(None, paid_at))
    paypal_hooks.objects["/v1/billing/subscriptions/I-LATE"] = cancelled  # PayPal now
    _post(client, pw.event("BILLING.SUBSCRIPTION.CANCELLED", cancelled,
                           create_time="2026-03-05T08:00:00Z"))
    settle()
    _post(client, pw.event("BILLING.SUBSCRIPTION.UPDATED", renewed,
                           create_time="2026-03-01T10:00:01Z"))  # the renewal's, late
    settle()
    assert [e.status for e in events()] == ["processed"] * 3
    sub = db.session.scalar(select(Subscription).where(Subscription.gateway_id == "I-LATE"))
    assert sub.status == "canceled"
    assert sub.access_until == _at(until)
    assert has_access(sub, _at("2026-03-20T12:00:00Z"))  # the member paid for March
    assert not has_access(sub, _at(until))


def test_a_cancellation_keeps_the_period_known_when_its_last_payment_says_less(
        pp_app, client, paypal_hooks):
    """A last payment made before the end the panel knows paid for that period (here the
    known period runs to 1 April, the last payment was on 1 February): the known end stays,
    although the payment plus a cycle would end sooner."""
    known = dict(pw.subscription("I-KNOWN"),
                 billing_info=_paid("2026-04-01T10:00:00Z", "2026-02-01T10:00:00Z"))
    _post(client, pw.event("BILLING.SUBSCRIPTION.UPDATED", known,
                           create_time="2026-03-01T10:00:01Z"))
    settle()
    cancelled = dict(known, status="CANCELLED", billing_info=_paid(None, "2026-02-01T10:00:00Z"))
    paypal_hooks.objects["/v1/billing/subscriptions/I-KNOWN"] = cancelled
    _post(client, pw.event("BILLING.SUBSCRIPTION.CANCELLED", cancelled,
                           create_time="2026-03-05T08:00:00Z"))
    settle()
    sub = db.session.scalar(select(Subscription).where(Subscription.gateway_id == "I-KNOWN"))
    assert (sub.status, sub.access_until) == ("canceled", _at("2026-04-01T10:00:00Z"))
