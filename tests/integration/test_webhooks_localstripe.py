"""localstripe delivers its own signed webhooks over real HTTP to the app served on
loopback: a checkout with a subscription appears in the panel exactly once."""
import threading
import time

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from admin_app.queue import backend
from models import Customer, Subscription, Transaction, WebhookEvent, db
from tests.fakes import stripe_events as se


@pytest.fixture
def served(app, localstripe):
    """The app on a free loopback port (a real HTTP server), with localstripe's webhook
    pointing at it; the webhook is pointed away again afterwards."""
    app.config.update(STRIPE_API_KEY=localstripe.api_key, STRIPE_API_BASE=localstripe.url,
                      STRIPE_MAX_RETRIES=0, STRIPE_WEBHOOK_SECRET=se.SECRET,
                      WEBHOOK_RETRY_DELAY=0.2)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook = f"{localstripe.url}/_config/webhooks/memberdesk"
    url = f"http://127.0.0.1:{server.server_port}/webhooks/stripe"
    requests.post(hook, data={"url": url, "secret": se.SECRET}, timeout=10).raise_for_status()
    try:
        yield localstripe
    finally:
        requests.post(hook, data={"url": url, "secret": "whsec_retired", "events": ["none"]},
                      timeout=10)
        server.shutdown()
        backend().wait_idle()


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        if condition():
            return True
        time.sleep(0.3)
    return False


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_checkout_at_localstripe_arrives_signed_and_is_applied_once(served):
    ls = served
    cus = ls.post("/v1/customers", email="webhook@example.com", name="Hook Customer")
    pm = ls.post("/v1/payment_methods", type="card", **{
        "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123"})
    ls.post(f"/v1/payment_methods/{pm['id']}/attach", customer=cus["id"])
    ls.post(f"/v1/customers/{cus['id']}",
            **{"invoice_settings[default_payment_method]": pm["id"]})
    product = ls.post("/v1/products", name="Pro")
    ls.post("/v1/plans", id="plan_hook", amount=1900, currency="usd", interval="month",
            product=product["id"])
    sub = ls.post("/v1/subscriptions", customer=cus["id"], **{"items[0][plan]": "plan_hook"})
    assert _wait_for(lambda: _count(Transaction) == 1 and _count(
        WebhookEvent, WebhookEvent.event_type == "invoice.payment_succeeded",
        WebhookEvent.status == "processed") == 1), [
        (e.event_type, e.status, e.last_error) for e in db.session.scalars(select(WebhookEvent))]
    customer = db.session.scalar(select(Customer).where(Customer.stripe_customer_id == cus["id"]))
    assert (customer.email, customer.name) == ("webhook@example.com", "Hook Customer")
    subscription = db.session.scalar(select(Subscription))
    assert (subscription.gateway_id, subscription.status, subscription.price_cents) == (
        sub["id"], "active", 1900)
    tx = db.session.scalar(select(Transaction))
    assert (tx.amount_cents, tx.currency, tx.subscription_id) == (1900, "USD", subscription.id)
    assert customer.lifetime_value_cents == 1900
    ls._request("DELETE", f"/v1/subscriptions/{sub['id']}")  # canceled at Stripe
    assert _wait_for(lambda: db.session.scalar(select(Subscription.status)) == "canceled")
    kinds = db.session.scalars(select(WebhookEvent.event_type)).all()
    assert {"customer.created", "customer.subscription.created",
            "customer.subscription.deleted"} <= set(kinds)
    assert _count(Customer) == 1 and _count(Transaction) == 1 and _count(Subscription) == 1
