"""Issue 13, Proof: parallel refunds of one payment never refund more than it, at the gateway."""
import re
import threading

import pytest
import requests

from models import Customer, Transaction, db
from tests import factories
from tests.conftest import PASSWORD, csrf_token, login
from tests.fakes.stripe_fake import API_KEY

pytestmark = pytest.mark.timeout(120)
CLIENTS = 8


def test_fakes_honour_idempotency_keys(stripe_fake, paypal_fake, reliability):
    """Same key, same refund object and no second refund: as the real gateways behave."""
    answers = [requests.post(f"{stripe_fake.url}/v1/refunds", timeout=5, data={
        "payment_intent": "pi_1", "amount": "700"}, headers={
        "Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "refund:1"}).json()
        for _ in range(3)]
    assert len({a["id"] for a in answers}) == 1 and stripe_fake.refunded_total("pi_1") == 700
    capture = paypal_fake.add_capture("10.00", "USD")
    token = requests.post(f"{paypal_fake.url}/v1/oauth2/token", timeout=5,
                          auth=("memberdesk-client-id", "memberdesk-client-secret"),
                          data={"grant_type": "client_credentials"}).json()["access_token"]
    ids = {requests.post(f"{paypal_fake.url}/v2/payments/captures/{capture}/refund", timeout=5,
                         json={"amount": {"value": "4.00", "currency_code": "USD"}},
                         headers={"Authorization": f"Bearer {token}",
                                  "PayPal-Request-Id": "refund:1"}).json()["id"]
           for _ in range(3)}
    assert len(ids) == 1 and paypal_fake.refunded(capture) == "4.00"
    reliability.count("concurrency", 6)


def test_parallel_refunds_with_different_forms_never_exceed_the_payment(app, stripe_fake,
                                                                       reliability):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers itself")
    app.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=stripe_fake.url,
                      STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=5)
    customer = factories.customer()
    tx = factories.payment(customer, 5000)
    db.session.commit()
    clients = [app.test_client() for _ in range(CLIENTS)]
    login(clients[0], "finance")
    for c in clients[1:]:
        c.post("/login", data={"email": "finance@example.com", "password": PASSWORD,
                               "csrf_token": csrf_token(c)})
    forms = []
    for c in clients:  # each admin opened their own form: their own request key
        page = c.get(f"/admin/transaction/action/refund/{tx.id}/").get_data(as_text=True)
        key = re.search(r'name="request_key"[^>]*value="([^"]*)"', page).group(1)
        forms.append({"amount": "20.00", "reason": "duplicate", "currency": "USD",
                      "request_key": key, "csrf_token": csrf_token(c, "/admin/transaction/")})
    barrier, statuses = threading.Barrier(CLIENTS), []

    def send(c, form):
        barrier.wait()
        statuses.append(c.post(f"/admin/transaction/action/refund/{tx.id}/",
                               data=form).status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, forms)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    db.session.expire_all()
    assert all(s == 302 for s in statuses)
    refunded = db.session.get(Transaction, tx.id).refunded_cents
    assert refunded == 4000 == stripe_fake.refunded_total(tx.gateway_ref)  # two fit, six refused
    assert db.session.get(Customer, customer.id).lifetime_value_cents == 1000
    reliability.count("concurrency", CLIENTS)
