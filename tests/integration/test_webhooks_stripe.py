"""POST /webhooks/stripe with events signed by Stripe's scheme: verification, storage once,
processing into customers, payments, refunds, disputes and subscriptions."""
import time

from sqlalchemy import func, select

from actions import ltv
from models import AuditEvent, Customer, Dispute, Refund, Subscription, Transaction, db
from tests import factories
from tests.conftest import login
from tests.fakes import stripe_events as se
from tests.webhook_helpers import events, hook_app, post_stripe, settle  # noqa: F401


def _euro_payment(stripe_reads, amount=4900, settled=5260, fee=183):
    """A €49.00 charge that Stripe settled as $52.60 with a $1.83 fee."""
    cust = se.customer()
    bt = stripe_reads.add(se.balance_transaction(settled, "usd", fee, rate=1.0735))
    return cust, se.charge(cust["id"], amount, "eur", bt["id"])


def test_a_payment_for_an_unknown_customer_creates_them_with_the_settled_value(
        hook_app, client, stripe_reads):
    cust, ch = _euro_payment(stripe_reads)
    response = post_stripe(client, se.event("charge.succeeded", ch))
    assert response.status_code == 200, response.get_data(as_text=True)
    settle()
    customer = db.session.scalar(select(Customer).where(Customer.stripe_customer_id == cust["id"]))
    assert (customer.email, customer.name) == ("ada@example.com", "Ada Lovelace")
    tx = customer.transactions.one()
    assert (tx.amount_cents, tx.currency, tx.status) == (4900, "EUR", "succeeded")
    assert (tx.settlement_cents, tx.settlement_currency, tx.fee_cents) == (5260, "USD", 183)
    assert customer.lifetime_value_cents == 5260 == ltv.actual_ltv(customer.id, "USD")
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.imported"))
    assert audit.actor_email == "webhook" and audit.actor_id is None
    assert events()[0].status == "processed"
    login(client, "viewer")
    profile = client.get(f"/admin/customer/profile/{customer.id}/").get_data(as_text=True)
    assert "$52.60" in profile and "incl. €49.00 paid in EUR, settled as $52.60" in profile


def test_unsigned_badly_signed_stale_and_oversized_requests_change_nothing(hook_app, client,
                                                                           stripe_reads):
    _, ch = _euro_payment(stripe_reads)
    evt = se.event("charge.succeeded", ch)
    assert post_stripe(client, evt, header="").status_code == 400
    assert post_stripe(client, evt, secret="whsec_someone_else").status_code == 400
    assert post_stripe(client, evt, timestamp=time.time() - 600).status_code == 400
    assert post_stripe(client, evt, header="t=1,v1=deadbeef").status_code == 400
    big = dict(evt, padding="x" * (300 * 1024))
    assert post_stripe(client, big).status_code == 413
    response = client.post("/webhooks/stripe", data=b"not json", content_type="application/json",
                           headers={"Stripe-Signature": se.sign("not json")})
    assert response.status_code == 400
    settle()
    assert events() == [] and db.session.scalar(select(func.count(Transaction.id))) == 0


def test_only_the_two_endpoints_exist_and_need_no_login(hook_app, client):
    assert client.get("/webhooks/stripe").status_code == 405
    assert client.post("/webhooks/other", data="{}").status_code == 404
    assert client.get("/webhooks/").status_code == 404


def test_a_repeated_delivery_is_acknowledged_and_ignored(hook_app, client, stripe_reads):
    _, ch = _euro_payment(stripe_reads)
    evt = se.event("charge.succeeded", ch)
    assert post_stripe(client, evt).status_code == 200
    second = post_stripe(client, evt)
    assert second.status_code == 200 and second.json["message"] == "already received"
    settle()
    assert len(events()) == 1
    assert db.session.scalar(select(func.count(Transaction.id))) == 1
    assert db.session.scalar(select(Customer.lifetime_value_cents)) == 5260


def test_a_dashboard_refund_appears_and_takes_its_settlement_off(hook_app, client, stripe_reads):
    _, ch = _euro_payment(stripe_reads)
    post_stripe(client, se.event("charge.succeeded", ch))
    bt = stripe_reads.add(se.balance_transaction(-2150, "usd"))
    stripe_reads.add(se.refund(ch, 2000, bt=bt["id"]))
    post_stripe(client, se.event("charge.refunded", dict(ch, amount_refunded=2000)))
    settle()
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_cents, refund.status, refund.created_by_id) == (2000, "succeeded", None)
    assert (refund.settlement_cents, refund.settlement_currency) == (2150, "USD")
    tx = refund.transaction
    assert tx.refunded_cents == 2000
    assert tx.customer.lifetime_value_cents == 5260 - 2150 == ltv.actual_ltv(tx.customer_id, "USD")


def test_a_panel_refund_left_pending_is_finished_by_refund_updated(hook_app, client,
                                                                    stripe_reads):
    customer = factories.customer()
    aff = factories.affiliate(rate_bp=1000)
    tx = factories.payment(customer, 5000, gateway_ref="pi_pending1", affiliate_id=aff.id,
                           commission_cents=500)
    pending = Refund(transaction_id=tx.id, amount_cents=2000, currency="USD", status="pending",
                     gateway_ref="re_pending1", reason="requested_by_customer")
    db.session.add(pending)
    db.session.commit()
    obj = {"id": "re_pending1", "object": "refund", "amount": 2000, "currency": "usd",
           "charge": "ch_pending1", "payment_intent": "pi_pending1", "status": "succeeded",
           "balance_transaction": None, "created": 1767398400, "reason": None}
    assert post_stripe(client, se.event("refund.updated", obj)).status_code == 200
    settle()
    refund = db.session.get(Refund, pending.id)
    assert refund.status == "succeeded" and refund.settlement_cents == 2000
    tx = db.session.get(Transaction, tx.id)
    assert (tx.refunded_cents, tx.commission_cents) == (2000, 300)
    assert tx.customer.lifetime_value_cents == 3000
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "refund"))
    assert audit.actor_email == "webhook" and audit.outcome == "succeeded"


def test_a_lost_dispute_takes_the_money_out_of_lifetime_value(hook_app, client, stripe_reads):
    cust, ch = _euro_payment(stripe_reads)
    post_stripe(client, se.event("charge.succeeded", ch))
    withdrawal = se.balance_transaction(-5260, "usd", fee=1500)
    post_stripe(client, se.event("charge.dispute.created", se.dispute(ch, bts=[withdrawal]),
                                 event_id="evt_dp1"))
    settle()
    customer = db.session.scalar(select(Customer))
    assert customer.lifetime_value_cents == 5260  # open: not yet lost
    closed = se.dispute(ch, status="lost", bts=[withdrawal],
                        dispute_id=db.session.scalar(select(Dispute.gateway_ref)))
    post_stripe(client, se.event("charge.dispute.closed", closed))
    settle()
    dispute = db.session.scalar(select(Dispute))
    assert (dispute.status, dispute.settlement_cents, dispute.fee_cents) == ("lost", 5260, 1500)
    customer = db.session.scalar(select(Customer))
    assert customer.lifetime_value_cents == 0 == ltv.actual_ltv(customer.id, "USD")


def test_a_renewal_credits_the_subscription_affiliate_at_its_rate(hook_app, client,
                                                                   stripe_reads):
    customer = factories.customer(stripe_customer_id="cus_renew")
    aff = factories.affiliate(rate_bp=1250)
    sub = factories.subscription(customer, factories.plan(), gateway_id="sub_renew",
                                 affiliate_id=aff.id)
    db.session.commit()
    bt = stripe_reads.add(se.balance_transaction(4900, "usd", fee=172))
    ch = se.charge("cus_renew", 4900, "usd", bt["id"], pi="pi_renew")
    post_stripe(client, se.event("invoice.paid", se.invoice("cus_renew", "sub_renew", "pi_renew")))
    post_stripe(client, se.event("charge.succeeded", ch))
    settle()
    tx = db.session.scalar(select(Transaction))
    assert (tx.subscription_id, tx.affiliate_id, tx.commission_cents) == (sub.id, aff.id, 613)
    assert (tx.settlement_cents, tx.fee_cents) == (4900, 172)
    assert tx.customer.lifetime_value_cents == 4900


def test_an_older_subscription_event_never_moves_it_backwards(hook_app, client):
    customer = factories.customer(stripe_customer_id="cus_order")
    db.session.commit()
    now = int(time.time())
    canceled = se.subscription("cus_order", "sub_order", status="canceled", canceled_at=now - 5)
    active = se.subscription("cus_order", "sub_order", status="active")
    post_stripe(client, se.event("customer.subscription.deleted", canceled, created=now - 5))
    post_stripe(client, se.event("customer.subscription.updated", active, created=now - 60))
    settle()
    sub = db.session.scalar(select(Subscription))
    assert sub.status == "canceled" and sub.customer_id == customer.id


def test_a_failing_event_is_retried_rolled_back_then_marked_failed_and_reprocessed(
        hook_app, client, stripe_reads):
    _, ch = _euro_payment(stripe_reads)
    stripe_reads.fail(times=3)  # the balance transaction cannot be read, three times
    post_stripe(client, se.event("charge.succeeded", ch))
    settle()
    [event] = events()
    assert (event.status, event.attempts) == ("failed", 3)
    assert "Stripe did not answer" in event.last_error
    assert db.session.scalar(select(func.count(Customer.id))) == 0  # nothing half-applied
    from tests.conftest import csrf_token, login
    login(client, "finance")
    page = client.get("/admin/webhook_event/").get_data(as_text=True)
    assert "charge.succeeded" in page and "failed" in page and "Stripe did not answer" in page
    url = f"/admin/webhook_event/action/webhook_reprocess/{event.id}/"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    settle()
    assert events()[0].status == "processed"
    assert db.session.scalar(select(Customer.lifetime_value_cents)) == 5260
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target_type == "webhook_event")).all()
    assert actions == ["webhook.reprocess", "webhook.reprocess"]


def test_reprocessing_needs_csrf_and_a_finance_role(hook_app, client, stripe_reads):
    from tests.conftest import csrf_token
    post_stripe(client, se.event("some.new_event", {"id": "x", "object": "thing"}))
    settle()
    [event] = events()
    assert event.status == "ignored"  # unknown types are stored and acknowledged
    url = f"/admin/webhook_event/action/webhook_reprocess/{event.id}/"
    assert client.get("/admin/webhook_event/").status_code == 302  # login first
    login(client, "support")
    assert client.get("/admin/webhook_event/").status_code == 403
    response = client.post(url, data={"csrf_token": csrf_token(client, "/admin/customer/")})
    assert response.status_code in (302, 403)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/customer/")})
    login(client, "finance")
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    settle()
    assert not db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "webhook.reprocess"))
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    settle()
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "webhook.reprocess")) == 2
