"""POST /webhooks/paypal verified through PayPal's verify-webhook-signature call (a fake on
loopback): captures, refunds, reversals, sales, subscriptions and disputes."""
from datetime import timedelta

from sqlalchemy import func, select

from actions import ltv
from models import Customer, Dispute, Refund, Subscription, Transaction, db
from models._types import utcnow
from models.access import has_access
from tests import factories
from tests.fakes import paypal_webhooks as pw
from tests.webhook_helpers import events, settle

import pytest


@pytest.fixture
def pp_app(app, paypal_hooks):
    app.config.update(WEBHOOK_RETRY_DELAY=0, WEBHOOK_MAX_ATTEMPTS=3, **paypal_hooks.config())
    yield app
    settle()


def post(client, evt, headers=None, raw=None):
    data = raw if raw is not None else pw.body(evt)
    return client.post("/webhooks/paypal", data=data, content_type="application/json",
                       headers=headers if headers is not None else pw.sign(data))


def _capture(paypal_hooks, breakdown=None):
    paypal_hooks.objects["/v2/checkout/orders/ORDER1"] = pw.order("ORDER1")
    return pw.capture("CAP1", order_id="ORDER1", breakdown=breakdown or pw.converted())


def test_a_converted_capture_counts_at_what_paypal_paid_out(pp_app, client, paypal_hooks):
    response = post(client, pw.event("PAYMENT.CAPTURE.COMPLETED", _capture(paypal_hooks)))
    assert response.status_code == 200, response.get_data(as_text=True)
    settle()
    customer = db.session.scalar(select(Customer))
    assert (customer.email, customer.name, customer.paypal_payer_id) == (
        "grace@example.com", "Grace Hopper", "QYR5Z8XDVJNXQ")
    tx = customer.transactions.one()
    # €49.00 gross; PayPal paid out $50.40 net at 1.0735 after a €2.05 fee ($2.20)
    assert (tx.amount_cents, tx.currency) == (4900, "EUR")
    assert (tx.settlement_cents, tx.settlement_currency, tx.fee_cents) == (5260, "USD", 220)
    assert customer.lifetime_value_cents == 5260 == ltv.actual_ltv(customer.id, "USD")
    assert len(paypal_hooks.verify_calls) == 1
    assert paypal_hooks.verify_calls[0]["webhook_id"] == pw.WEBHOOK_ID


def test_unverified_stale_and_malformed_deliveries_change_nothing(pp_app, client, paypal_hooks):
    evt = pw.event("PAYMENT.CAPTURE.COMPLETED", _capture(paypal_hooks))
    data = pw.body(evt)
    forged = dict(pw.sign(data), **{"PAYPAL-TRANSMISSION-SIG": "0" * 64})
    assert post(client, evt, headers=forged).status_code == 400
    other_hook = pw.sign(data, webhook_id="SOMEONE-ELSES-HOOK")
    assert post(client, evt, headers=other_hook).status_code == 400
    assert post(client, evt, headers={}).status_code == 400
    stale = pw.sign(data, transmission_time=pw.now_text(-3600))
    assert post(client, evt, headers=stale).status_code == 400
    assert post(client, None, raw=b"[1, 2]").status_code == 400
    assert post(client, None, raw=b"x" * (300 * 1024)).status_code == 413
    paypal_hooks.verify_failures = 1
    assert post(client, evt).status_code == 503  # PayPal will deliver it again
    settle()
    assert events() == [] and db.session.scalar(select(func.count(Transaction.id))) == 0


def test_a_refund_and_a_reversal_made_at_paypal(pp_app, client, paypal_hooks):
    post(client, pw.event("PAYMENT.CAPTURE.COMPLETED", _capture(paypal_hooks)))
    post(client, pw.event("PAYMENT.CAPTURE.REFUNDED", pw.refund("REF1", "CAP1", "24.50")))
    post(client, pw.event("PAYMENT.CAPTURE.REFUNDED", pw.refund("REF1", "CAP1", "24.50")))
    settle()
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_cents, refund.status) == (2450, "succeeded")
    assert (refund.settlement_cents, refund.settlement_currency) == (2630, "USD")  # half
    customer = db.session.scalar(select(Customer))
    assert customer.lifetime_value_cents == 2630
    reversed_ = dict(pw.capture("CAP1"), status="REVERSED")
    post(client, pw.event("PAYMENT.CAPTURE.REVERSED", reversed_))
    settle()
    dispute = db.session.scalar(select(Dispute))
    assert dispute.status == "lost"
    customer = db.session.scalar(select(Customer))
    assert customer.lifetime_value_cents == ltv.actual_ltv(customer.id, "USD") == 2630 - 5260


def test_a_cancellation_in_paypal_and_a_renewal_payment(pp_app, client, paypal_hooks):
    customer = factories.customer(email="grace@example.com", paypal_payer_id="QYR5Z8XDVJNXQ")
    aff = factories.affiliate(rate_bp=2000)
    factories.subscription(customer, factories.plan(paypal_plan_id="P-PRO", price_cents=1900),
                           gateway="paypal", gateway_id="I-SUB1", affiliate_id=aff.id)
    db.session.commit()
    sale = {"id": "SALE1", "state": "completed", "amount": {"total": "19.00", "currency": "USD"},
            "billing_agreement_id": "I-SUB1", "transaction_fee": {"value": "0.85",
                                                                 "currency": "USD"},
            "create_time": "2026-02-01T10:00:00Z", "update_time": "2026-02-01T10:00:00Z"}
    post(client, pw.event("PAYMENT.SALE.COMPLETED", sale))
    post(client, pw.event("BILLING.SUBSCRIPTION.CANCELLED",
                          pw.subscription("I-SUB1", status="CANCELLED")))
    settle()
    tx = db.session.scalar(select(Transaction))
    assert (tx.amount_cents, tx.settlement_cents, tx.fee_cents) == (1900, 1900, 85)
    assert (tx.affiliate_id, tx.commission_cents) == (aff.id, 380)
    sub = db.session.scalar(select(Subscription))
    assert sub.status == "canceled" and sub.canceled_at is not None
    assert db.session.get(Customer, customer.id).lifetime_value_cents == 1900


def test_a_member_who_cancels_at_paypal_keeps_access_until_the_paid_period_ends(
        pp_app, client, paypal_hooks):
    """What the member checks: on a day inside the period paid for they still get in; after
    its end they do not (the guide's 10th/20th rule, on the webhook path)."""
    now = utcnow()
    end = (now + timedelta(days=10)).replace(microsecond=0)
    customer = factories.customer(email="grace@example.com", paypal_payer_id="QYR5Z8XDVJNXQ")
    factories.subscription(customer, factories.plan(paypal_plan_id="P-PRO", price_cents=1900),
                           gateway="paypal", gateway_id="I-SUB1",
                           start_date=end - timedelta(days=31), current_period_end=end,
                           next_payment_date=end)
    db.session.commit()
    cancelled = pw.subscription("I-SUB1", status="CANCELLED")
    cancelled["billing_info"]["next_billing_time"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    cancelled["update_time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert post(client, pw.event("BILLING.SUBSCRIPTION.CANCELLED", cancelled)).status_code == 200
    settle()
    db.session.expire_all()
    sub = db.session.scalar(select(Subscription))
    assert sub.status == "canceled"
    assert has_access(sub, now + timedelta(days=5)), "paid until the period ends"
    assert has_access(sub, end - timedelta(hours=1))
    assert not has_access(sub, end + timedelta(hours=1))


def test_a_new_subscription_fetches_its_plan_and_disputes_resolve(pp_app, client, paypal_hooks):
    paypal_hooks.objects["/v1/billing/plans/P-NEW"] = pw.plan("P-NEW", "29.00")
    new = pw.subscription("I-NEW", plan_id="P-NEW", email="new@example.com",
                          payer_id="PAYERNEW")
    # PayPal now: the payment failed (the second event shares the first's second: the panel
    # asks PayPal which state is the later)
    failed = dict(new, billing_info=dict(new["billing_info"], failed_payments_count=1))
    paypal_hooks.objects["/v1/billing/subscriptions/I-NEW"] = failed
    second = pw.now_text()
    post(client, pw.event("BILLING.SUBSCRIPTION.ACTIVATED", new, create_time=second))
    post(client, pw.event("BILLING.SUBSCRIPTION.PAYMENT.FAILED", new, create_time=second))
    settle()
    sub = db.session.scalar(select(Subscription))
    assert (sub.price_cents, sub.currency, sub.name, sub.status) == (2900, "USD",
                                                                     "Pro via PayPal", "past_due")
    assert sub.customer.email == "new@example.com"
    post(client, pw.event("PAYMENT.CAPTURE.COMPLETED", _capture(paypal_hooks)))
    opened = {"dispute_id": "PP-D-1", "status": "OPEN", "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
              "dispute_amount": pw.money("49.00"), "create_time": "2026-01-05T10:00:00Z",
              "disputed_transactions": [{"seller_transaction_id": "CAP1"}]}
    post(client, pw.event("CUSTOMER.DISPUTE.CREATED", opened))
    won = dict(opened, status="RESOLVED", dispute_outcome={"outcome_code":
                                                           "RESOLVED_SELLER_FAVOUR"})
    post(client, pw.event("CUSTOMER.DISPUTE.RESOLVED", won))
    settle()
    assert db.session.scalar(select(Dispute.status)) == "won"
    grace = db.session.scalar(select(Customer).where(Customer.email == "grace@example.com"))
    assert grace.lifetime_value_cents == 5260
    assert [e.status for e in events()] == ["processed"] * 5
