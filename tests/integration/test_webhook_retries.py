"""Webhook retries are scheduled, not slept (issue 18; issue 20 item 3): a failing event waits
for its next try in the database, the event page says when, no worker sleeps for it, and a
bulk job queued behind it runs at once. A refund that arrives before its payment fetches the
payment from the gateway."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from actions import ltv
from admin_app import jobs
from models import Customer, Refund, Transaction, db
from models._types import utcnow
from tests import factories
from tests.conftest import login, make_admin
from tests.fakes import paypal_webhooks as pw
from tests.fakes import stripe_events as se
from tests.job_support import make_payments, point_stripe_at, wait_for_job
from tests.webhook_helpers import events, post_stripe, settle


@pytest.fixture
def pp_app(app, paypal_hooks):
    app.config.update(**paypal_hooks.config())
    yield app
    settle()


def post_paypal(client, evt):
    data = pw.body(evt)
    response = client.post("/webhooks/paypal", data=data, content_type="application/json",
                           headers=pw.sign(data))
    assert response.status_code == 200, response.get_data(as_text=True)


def _unknown_sale(n):
    """A renewal payment of a subscription PayPal does not know (404): it cannot be applied."""
    return {"id": f"SALE-X{n}", "state": "completed",
            "amount": {"total": "19.00", "currency": "USD"},
            "billing_agreement_id": f"I-GONE{n}", "create_time": "2026-02-01T10:00:00Z"}


def test_failing_webhook_events_never_delay_a_bulk_job(pp_app, client, paypal_hooks,
                                                        stripe_bulk):
    point_stripe_at(pp_app, stripe_bulk)
    for n in range(4):  # correctly signed, but each fails to apply (PayPal answers 404)
        post_paypal(client, pw.event("PAYMENT.SALE.COMPLETED", _unknown_sale(n)))
    finance = make_admin("finance")
    [payment] = make_payments(1)
    job = jobs.create_job(finance, "refund_remaining", {"view": "transaction", "ids": [payment]},
                          {"reason": "other"})

    job = wait_for_job(job.id, timeout=20)  # the retries wait in the database, not here

    assert (job.state, job.done_count) == ("done", 1)
    db.session.expire_all()
    failing = events()
    assert [(e.status, e.attempts) for e in failing] == [("retrying", 1)] * 4
    assert all(e.next_attempt_at > utcnow() + timedelta(seconds=20) for e in failing)
    assert all("I-GONE" in e.last_error or "not found" in e.last_error.lower()
               or "RESOURCE_NOT_FOUND" in e.last_error for e in failing)


def test_a_retry_is_scheduled_with_growing_delays_and_shown_on_the_event_page(
        app, client, stripe_reads):
    app.config.update(STRIPE_WEBHOOK_SECRET=se.SECRET, STRIPE_API_KEY=se.API_KEY,
                      STRIPE_API_BASE=stripe_reads.url, STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=2,
                      WEBHOOK_RETRY_DELAY=1.0, WEBHOOK_RETRY_FACTOR=2.0)
    cust = se.customer()
    bt = stripe_reads.add(se.balance_transaction(4900, "usd", 172))
    stripe_reads.fail(times=2)  # the balance transaction cannot be read twice
    post_stripe(client, se.event("charge.succeeded", se.charge(cust["id"], 4900, "usd",
                                                               bt["id"])))
    settle()
    [event] = events()
    assert (event.status, event.attempts) == ("retrying", 1)
    first_wait = (event.next_attempt_at - utcnow()).total_seconds()
    assert 0 < first_wait <= 1.0
    login(client, "finance")
    page = client.get("/admin/webhook_event/").get_data(as_text=True)
    assert "next try at" in page

    event = _wait_for_event(lambda e: e.attempts == 2)  # tried again by the scheduled drain
    assert event.status == "retrying"
    second_wait = (event.next_attempt_at - utcnow()).total_seconds()
    assert 1.0 < second_wait <= 2.0  # the delay grows

    event = _wait_for_event(lambda e: e.status == "processed")
    assert event.attempts == 3 and event.next_attempt_at is None
    customer = db.session.scalar(select(Customer))
    assert customer.lifetime_value_cents == 4900 == ltv.actual_ltv(customer.id, "USD")


def _wait_for_event(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        db.session.expire_all()
        [event] = events()
        if condition(event):
            return event
        time.sleep(0.05)
    raise AssertionError(f"event stayed {event.status} after {event.attempts} attempts")


def test_a_sale_refund_before_its_sale_fetches_the_sale_from_paypal(pp_app, client,
                                                                     paypal_hooks):
    customer = factories.customer(email="grace@example.com", paypal_payer_id="QYR5Z8XDVJNXQ")
    factories.subscription(customer, factories.plan(paypal_plan_id="P-PRO", price_cents=1900),
                           gateway="paypal", gateway_id="I-SUB1")
    db.session.commit()
    sale = {"id": "SALE1", "state": "completed", "amount": {"total": "19.00", "currency": "USD"},
            "billing_agreement_id": "I-SUB1", "transaction_fee": {"value": "0.85",
                                                                 "currency": "USD"},
            "create_time": "2026-02-01T10:00:00Z", "update_time": "2026-02-01T10:00:00Z"}
    paypal_hooks.objects["/v1/payments/sale/SALE1"] = dict(sale, state="partially_refunded")
    refund = {"id": "SREF1", "state": "completed", "sale_id": "SALE1",
              "amount": {"total": "5.00", "currency": "USD"},
              "create_time": "2026-02-03T10:00:00Z"}

    post_paypal(client, pw.event("PAYMENT.SALE.REFUNDED", refund))  # PayPal sent it first
    settle()
    post_paypal(client, pw.event("PAYMENT.SALE.COMPLETED", sale))
    settle()

    assert [e.status for e in events()] == ["processed", "processed"]
    tx = db.session.scalar(select(Transaction))
    assert db.session.scalar(select(func.count(Transaction.id))) == 1
    assert (tx.gateway_ref, tx.amount_cents, tx.status, tx.refunded_cents) == (
        "SALE1", 1900, "succeeded", 500)
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert db.session.get(Customer, customer.id).lifetime_value_cents == 1400 == \
        ltv.actual_ltv(customer.id, "USD")


def test_a_dispute_before_its_capture_fetches_the_capture_from_paypal(pp_app, client,
                                                                      paypal_hooks):
    """Issue 18 (burst bench): a PayPal dispute that arrived before its capture waited for a
    retry (30 s, then 2 min) instead of fetching the capture, as refunds do."""
    paypal_hooks.objects["/v2/payments/captures/CAP9"] = pw.capture(
        "CAP9", "49.00", "USD", order_id="ORDER9",
        breakdown={"gross_amount": pw.money("49.00", "USD"),
                   "paypal_fee": pw.money("1.95", "USD"), "net_amount": pw.money("47.05", "USD")})
    paypal_hooks.objects["/v2/checkout/orders/ORDER9"] = pw.order("ORDER9")
    opened = {"dispute_id": "PP-D-9", "status": "OPEN",
              "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
              "dispute_amount": pw.money("49.00", "USD"), "create_time": "2026-01-05T10:00:00Z",
              "disputed_transactions": [{"seller_transaction_id": "CAP9"}]}
    post_paypal(client, pw.event("CUSTOMER.DISPUTE.CREATED", opened))  # before its capture
    settle()
    post_paypal(client, pw.event("PAYMENT.CAPTURE.COMPLETED", paypal_hooks.objects[
        "/v2/payments/captures/CAP9"]))
    settle()

    assert [(e.status, e.attempts) for e in events()] == [("processed", 1)] * 2
    tx = db.session.scalar(select(Transaction))
    assert db.session.scalar(select(func.count(Transaction.id))) == 1
    assert (tx.gateway_ref, tx.amount_cents, tx.status) == ("CAP9", 4900, "succeeded")
    from models import Dispute
    dispute = db.session.scalar(select(Dispute))
    assert (dispute.gateway_ref, dispute.transaction_id, dispute.status) == ("PP-D-9", tx.id,
                                                                           "open")
    grace = db.session.scalar(select(Customer).where(Customer.email == "grace@example.com"))
    assert grace.lifetime_value_cents == 4900 == ltv.actual_ltv(grace.id, "USD")
