"""Helpers of the webhook tests: the app configured for signed events, waiting for the
background worker, and a snapshot of what a customer's records look like."""
import pytest
from sqlalchemy import select

from admin_app.queue import backend
from models import Customer, Dispute, Refund, Subscription, Transaction, WebhookEvent, db
from tests.fakes import stripe_events as se


@pytest.fixture
def hook_app(app, stripe_reads):
    app.config.update(STRIPE_WEBHOOK_SECRET=se.SECRET, STRIPE_API_KEY=stripe_reads.api_key,
                      STRIPE_API_BASE=stripe_reads.url, STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=2,
                      WEBHOOK_RETRY_DELAY=0, WEBHOOK_MAX_ATTEMPTS=3)
    yield app
    backend().wait_idle()


def post_stripe(client, evt, secret=se.SECRET, timestamp=None, header=None):
    payload = se.body(evt)
    sig = header if header is not None else se.sign(payload, secret, timestamp)
    return client.post("/webhooks/stripe", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": sig} if sig else {})


def settle():
    """Wait for the background worker, then look at the database afresh."""
    backend().wait_idle()
    db.session.rollback()
    db.session.expire_all()


def events():
    return db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()


def snapshot():
    """Everything a user could see of the customers' money and subscriptions."""
    def rows(model, *cols):
        return sorted(tuple(str(getattr(r, c)) for c in cols)
                      for r in db.session.scalars(select(model)))
    return {
        "customers": rows(Customer, "email", "name", "country", "stripe_customer_id",
                          "paypal_payer_id", "lifetime_value_cents"),
        "payments": rows(Transaction, "gateway_ref", "status", "amount_cents", "currency",
                         "refunded_cents", "settlement_cents", "settlement_currency",
                         "fee_cents", "subscription_id", "commission_cents", "created_at",
                         "description", "tax_cents"),
        "refunds": rows(Refund, "gateway_ref", "status", "amount_cents", "settlement_cents",
                        "settlement_currency"),
        "disputes": rows(Dispute, "gateway_ref", "status", "settlement_cents"),
        "subscriptions": rows(Subscription, "gateway_id", "status", "price_cents",
                              "cancel_at_period_end", "canceled_at", "current_period_end"),
    }


def event_status(event_id):
    """A stored webhook event's status, read afresh (another process applies it)."""
    db.session.expire_all()
    status = db.session.scalar(select(WebhookEvent.status).where(
        WebhookEvent.event_id == event_id))
    db.session.rollback()
    return status
