"""Two states of one subscription stamped with the same second (the gateways' events carry
whole seconds and come in any order): the panel asks the gateway which is current instead of
taking whichever arrived last (apply_accounts.same_second)."""
from sqlalchemy import select

from models import Subscription, db
from tests.fakes import paypal_webhooks as pw
from tests.fakes import stripe_events as se
from tests.webhook_helpers import events, hook_app, post_stripe, settle  # noqa: F401

FEB_1, MAR_1 = 1769904000, 1772323200  # 2026-02-01 and 2026-03-01, 00:00 UTC


def _sub(ref):
    return db.session.scalar(select(Subscription).where(Subscription.gateway_id == ref))


def test_a_stripe_renewal_and_the_state_before_it_in_one_second_in_reverse(
        hook_app, client, stripe_reads):
    stripe_reads.add(se.customer("cus_same"))
    before = se.subscription("cus_same", "sub_same", period_end=FEB_1)
    renewed = se.subscription("cus_same", "sub_same", period_end=MAR_1)
    stripe_reads.add(renewed)  # Stripe now: renewed, paid until 1 March
    second = FEB_1 + 5
    post_stripe(client, se.event("customer.subscription.updated", renewed, created=second))
    settle()
    post_stripe(client, se.event("customer.subscription.updated", before, created=second))
    settle()
    sub = _sub("sub_same")
    assert sub.current_period_end.timestamp() == MAR_1
    assert [e.status for e in events()] == ["processed", "processed"]


def test_a_stripe_state_of_an_earlier_second_still_changes_nothing(
        hook_app, client, stripe_reads):
    stripe_reads.add(se.customer("cus_old"))
    renewed = se.subscription("cus_old", "sub_old", period_end=MAR_1)
    stripe_reads.add(dict(renewed, status="past_due"))  # not asked for: no tie
    post_stripe(client, se.event("customer.subscription.updated", renewed, created=FEB_1 + 5))
    settle()
    post_stripe(client, se.event("customer.subscription.updated",
                                 se.subscription("cus_old", "sub_old", period_end=FEB_1),
                                 created=FEB_1 + 4))
    settle()
    sub = _sub("sub_old")
    assert (sub.status, sub.current_period_end.timestamp()) == ("active", MAR_1)


def _paypal_app(app, paypal_hooks):
    app.config.update(WEBHOOK_RETRY_DELAY=0, WEBHOOK_MAX_ATTEMPTS=3, **paypal_hooks.config())
    paypal_hooks.objects["/v1/billing/plans/P-PRO"] = pw.plan("P-PRO", "19.00")


def _post_paypal(client, evt):
    data = pw.body(evt)
    return client.post("/webhooks/paypal", data=data, content_type="application/json",
                       headers=pw.sign(data))


def test_a_paypal_payment_failed_then_paid_in_one_second_arriving_in_reverse(
        app, client, paypal_hooks):
    _paypal_app(app, paypal_hooks)
    failing = pw.subscription("I-SAME")
    paid = dict(failing, billing_info={"next_billing_time": "2026-03-01T10:00:00Z",
                                       "failed_payments_count": 0,
                                       "last_payment": {"amount": pw.money("19.00", "USD"),
                                                        "time": "2026-02-01T10:00:05Z"}})
    paypal_hooks.objects["/v1/billing/subscriptions/I-SAME"] = paid  # PayPal now
    second = "2026-02-01T10:00:05Z"
    _post_paypal(client, pw.event("BILLING.SUBSCRIPTION.UPDATED", paid, create_time=second))
    settle()
    _post_paypal(client, pw.event("BILLING.SUBSCRIPTION.PAYMENT.FAILED", failing,
                                  create_time=second))
    settle()
    sub = _sub("I-SAME")
    assert (sub.status, sub.current_period_end.isoformat()) == ("active",
                                                                "2026-03-01T10:00:00+00:00")
    assert [e.status for e in events()] == ["processed", "processed"]
