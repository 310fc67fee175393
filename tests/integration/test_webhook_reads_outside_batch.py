"""Issue 18: the gateway reads a webhook batch needs are made before the batch's transaction,
also those the first read-ahead left inside it: the subscription a Stripe invoice pays when
we do not know it yet, the customer a payment or subscription names without an e-mail, a
PayPal subscription's plan. Each gateway read is watched as it is made: the worker's
database session must have no transaction open then (and so no lock held)."""
import pytest
from sqlalchemy import select

from actions.gateways.paypal_sync import PayPalReader
from actions.gateways.stripe_sync import StripeReader
from actions.sync import events
from admin_app.composition import deps_from_app
from models import Customer, Subscription, Transaction, WebhookEvent, db
from tests.fakes import paypal_webhooks as pe
from tests.fakes import stripe_events as se

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def reads_watched(monkeypatch):
    """Every gateway read as (path, whether the session had a transaction open)."""
    calls = []
    stripe_get, paypal_request = StripeReader.get, PayPalReader._request

    def watched_stripe(self, path, **params):
        calls.append((path, db.session().in_transaction()))
        return stripe_get(self, path, **params)

    def watched_paypal(self, method, path, **kwargs):
        calls.append((path, db.session().in_transaction()))
        return paypal_request(self, method, path, **kwargs)

    monkeypatch.setattr(StripeReader, "get", watched_stripe)
    monkeypatch.setattr(PayPalReader, "_request", watched_paypal)
    return calls


def _apply(gateway, evt, event_type):
    body = se.body(evt) if gateway == "stripe" else pe.body(evt).decode()
    events.store_event(gateway, evt["id"], event_type, None, body)
    done = events.apply_batch(deps_from_app(), None, delay=lambda attempts: 60.0)
    db.session.expire_all()
    event = db.session.scalar(select(WebhookEvent))
    assert (event.status, event.last_error) == ("processed", None), (done, event.last_error)
    return done


def _stripe(app, stripe_reads):
    app.config.update(STRIPE_API_KEY=se.API_KEY, STRIPE_API_BASE=stripe_reads.url,
                      STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=10)


def test_a_payment_naming_an_unknown_customer_without_e_mail_reads_it_outside_the_batch(
        app, stripe_reads, reads_watched):
    _stripe(app, stripe_reads)
    cust = stripe_reads.add(se.customer(email="quiet@example.com", name="Quiet Payer"))
    charge = se.charge(cust["id"], 2500, "usd", bt=se.balance_transaction(2500, "usd", 80),
                       email=None, name=None)
    _apply("stripe", se.event("charge.succeeded", charge), "charge.succeeded")

    assert reads_watched == [(f"/v1/customers/{cust['id']}", False)]
    payer = db.session.scalar(select(Customer))
    assert (payer.email, payer.name, payer.lifetime_value_cents) == \
        ("quiet@example.com", "Quiet Payer", 2500)


def test_an_invoice_paid_for_an_unknown_subscription_reads_it_outside_the_batch(
        app, stripe_reads, reads_watched):
    _stripe(app, stripe_reads)
    cust = stripe_reads.add(se.customer(email="renew@example.com", name="Renewing"))
    sub = stripe_reads.add(se.subscription(cust["id"], amount=4900))
    paid = se.event("invoice.paid", se.invoice(cust["id"], sub["id"], se.new_id("pi")))
    _apply("stripe", paid, "invoice.paid")

    assert sorted(reads_watched) == sorted([(f"/v1/subscriptions/{sub['id']}", False),
                                            (f"/v1/customers/{cust['id']}", False)])
    imported = db.session.scalar(select(Subscription))
    payment = db.session.scalar(select(Transaction))
    assert (imported.gateway_id, imported.price_cents, imported.customer.email) == \
        (sub["id"], 4900, "renew@example.com")
    assert (payment.subscription_id, payment.amount_cents) == (imported.id, 4900)


def test_a_paypal_subscription_on_an_unknown_plan_reads_the_plan_outside_the_batch(
        app, paypal_hooks, reads_watched):
    app.config.update(paypal_hooks.config())
    paypal_hooks.objects["/v1/billing/plans/P-UNSEEN"] = pe.plan("P-UNSEEN", "19.00", "USD")
    activated = pe.event("BILLING.SUBSCRIPTION.ACTIVATED",
                         pe.subscription("I-UNSEENPLAN1", plan_id="P-UNSEEN"))
    _apply("paypal", activated, "BILLING.SUBSCRIPTION.ACTIVATED")

    plan_reads = [call for call in reads_watched if call[0].startswith("/v1/billing/plans/")]
    assert plan_reads == [("/v1/billing/plans/P-UNSEEN", False)]
    assert [call for call in reads_watched if call[1]] == []  # nothing read inside it
    imported = db.session.scalar(select(Subscription))
    assert (imported.gateway_id, imported.price_cents, imported.currency) == \
        ("I-UNSEENPLAN1", 1900, "USD")


def test_a_paypal_refund_with_an_unreadable_amount_fails_alone_and_the_batch_is_applied(
        app, paypal_hooks, stripe_reads):
    """What the batch looks at before applying it (the reads ahead, the payments it claims)
    meets the event's bad amount first: that must not stop the batch (the lane's drain would
    fail on it at every try, the lane's other events never applied); the event's own handler
    says what is wrong with it."""
    app.config.update(paypal_hooks.config())
    _stripe(app, stripe_reads)
    bad = pe.refund("BADREFUND01", "CAPTURE0000BAD", value="4O.00")  # a letter O
    bad_refund = pe.event("PAYMENT.CAPTURE.REFUNDED", bad)
    events.store_event("paypal", bad_refund["id"], "PAYMENT.CAPTURE.REFUNDED", None,
                       pe.body(bad_refund).decode())
    good = se.event("charge.succeeded", se.charge(
        "cus_fine", 2500, "usd", bt=se.balance_transaction(2500, "usd", 80),
        email="fine@example.com"))
    events.store_event("stripe", good["id"], "charge.succeeded", None, se.body(good))

    done = events.apply_batch(deps_from_app(), None, delay=lambda attempts: 60.0)

    assert done == {"processed": 1, "retrying": 1}
    db.session.expire_all()
    statuses = {e.event_id: (e.status, e.last_error or "")
                for e in db.session.scalars(select(WebhookEvent))}
    assert statuses[good["id"]] == ("processed", "")
    assert statuses[bad_refund["id"]][0] == "retrying"
    assert "InvalidOperation" in statuses[bad_refund["id"]][1]
    assert db.session.scalar(select(Transaction.amount_cents)) == 2500
