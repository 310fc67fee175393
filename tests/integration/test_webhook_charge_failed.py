"""Issue 18: a Stripe charge.failed (a declined renewal, a declined one-off payment) posted at
the signed endpoint: no money is recorded, a pending payment of ours is marked failed, and the
customer's subscription takes the state Stripe gives it (past due), read from Stripe. Before,
the event had no handler ("ignored"): a declined renewal showed only after a sync."""
from sqlalchemy import func, select

from models import Customer, Subscription, Transaction, db
from tests import factories
from tests.fakes import stripe_events as se
from tests.webhook_helpers import events, hook_app, post_stripe, settle  # noqa: F401


def _declined(cust_id, pi=None):
    return se.event("charge.failed", se.charge(cust_id, 4900, "usd", bt=None, pi=pi,
                                               status="failed", email="late@example.com"))


def test_a_declined_renewal_makes_the_subscription_past_due_and_records_no_money(
        hook_app, client, stripe_reads):
    cust = factories.customer(email="late@example.com", stripe_customer_id="cus_declined",
                              lifetime_value_cents=4900)
    sub = factories.subscription(cust, factories.plan(), gateway_id="sub_declined")
    factories.subscription(cust, factories.plan(name="Old"), gateway_id="sub_over",
                           status="canceled")
    db.session.commit()
    stripe_reads.add(se.subscription("cus_declined", sub_id="sub_declined", status="past_due"))

    assert post_stripe(client, _declined("cus_declined")).status_code == 200
    settle()

    assert [(e.event_type, e.status, e.last_error) for e in events()] == \
        [("charge.failed", "processed", None)]
    assert db.session.get(Subscription, sub.id).status == "past_due"
    assert db.session.scalar(select(func.count(Transaction.id))) == 0
    assert db.session.get(Customer, cust.id).lifetime_value_cents == 4900
    # only the live subscription was read (the cancelled one is over at Stripe too)
    assert [c.path for c in stripe_reads.sb.calls if c.vendor == "stripe"] == \
        ["/v1/subscriptions/sub_declined"]


def test_a_declined_pending_payment_is_marked_failed_and_counts_nothing(
        hook_app, client, stripe_reads):
    cust = factories.customer(email="late@example.com", stripe_customer_id="cus_pending")
    pending = factories.payment(cust, 4900, status="pending", gateway_ref="pi_pending_decl")
    db.session.commit()

    assert post_stripe(client, _declined("cus_pending", pi="pi_pending_decl")).status_code == 200
    settle()

    assert [(e.status, e.last_error) for e in events()] == [("processed", None)]
    tx = db.session.get(Transaction, pending.id)
    assert (tx.status, tx.invoice_number) == ("failed", None)
    assert db.session.get(Customer, cust.id).lifetime_value_cents == 0
