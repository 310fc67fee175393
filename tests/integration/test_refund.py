"""Refunds through the admin, against the sandbox's Stripe and PayPal on loopback; money
counted at the sandbox and in our records."""
import html
import re
import threading

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Customer, Refund, Transaction, db
from tests import factories
from tests.conftest import csrf_token, login
from tests.gateway_sandbox import refunded_cents, stripe_settings


@pytest.fixture
def stripe_app(app, sandbox):
    app.config.update(stripe_settings(sandbox, STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=2))
    return app


def paypal_app(app, sandbox):
    app.config.update({k: v for k, v in sandbox.config().items() if k.startswith("PAYPAL")},
                      PAYPAL_MAX_RETRIES=0)
    return app


def at_stripe(sandbox, tx_id):
    """What the sandbox's Stripe has refunded of the payment, in cents."""
    return refunded_cents(sandbox, "stripe", db.session.get(Transaction, tx_id).gateway_ref)


@pytest.fixture
def sale(sandbox):
    """A $50.00 Stripe payment with a 10 % affiliate ($5.00 commission), at the sandbox
    too."""
    customer = factories.customer(name="Grace Hopper")
    factories.payment(customer, 2500)
    aff = factories.affiliate(rate_bp=1000)
    tx = factories.payment(customer, 5000, affiliate_id=aff.id, commission_cents=500)
    db.session.commit()
    return tx.id, customer.id


def _modal(client, tx_id):
    page = client.get(f"/admin/transaction/action/refund/{tx_id}/?modal=1&url=/admin/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, re.search(r'name="request_key"[^>]*value="([^"]+)"', html).group(1)


def _refund(client, tx_id, amount, reason="requested_by_customer", key=None, csrf=True):
    html, default_key = _modal(client, tx_id)
    data = {"amount": amount, "reason": reason, "note": "", "currency": "USD",
            "request_key": key or default_key}
    if csrf:
        data["csrf_token"] = csrf_token(client, "/admin/transaction/")
    return client.post(f"/admin/transaction/action/refund/{tx_id}/?url=/admin/transaction/",
                       data=data, follow_redirects=True)


def _state(tx_id, customer_id):
    db.session.expire_all()
    tx = db.session.get(Transaction, tx_id)
    return tx.refunded_cents, tx.commission_cents, db.session.get(Customer, customer_id).lifetime_value_cents


def test_modal_shows_what_is_left_and_the_consequences(stripe_app, client, sale):
    login(client, "finance")
    html, _ = _modal(client, sale[0])
    assert "$50.00" in html and "Most that can be refunded" in html
    assert "lifetime value $75.00 → $25.00" in html  # after a full refund
    assert "goes down by" in html and "$5.00" in html  # commission reversed


def test_full_refund_reaches_stripe_and_updates_value_and_commission(stripe_app, client, sale,
                                                                     stripe_sb, sandbox):
    login(client, "finance")
    page = _refund(client, sale[0], "50.00").get_data(as_text=True)
    assert "Refunded $50.00 through Stripe." in page
    refund = db.session.scalar(select(Refund))
    assert refund.status == "succeeded" and refund.gateway_ref.startswith("re_")
    (call,) = stripe_sb.calls
    assert call.path == "/v1/refunds"
    assert call.form["payment_intent"].startswith("pi_test") and call.form["amount"] == "5000"
    assert call.form["reason"] == "requested_by_customer"
    assert call.headers["Idempotency-Key"] == refund.idempotency_key
    assert _state(*sale) == (5000, 0, 2500) and at_stripe(sandbox, sale[0]) == 5000
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "refund"))
    assert event.outcome == "succeeded" and event.actor_email == "finance@example.com"
    assert event.before["lifetime_value_cents"] == 7500 and event.after["lifetime_value_cents"] == 2500


def test_partial_refunds_add_up_and_cannot_exceed_the_payment(stripe_app, client, sale, stripe_sb,
                                                             sandbox):
    login(client, "finance")
    _refund(client, sale[0], "12.50")
    _refund(client, sale[0], "7.50")
    assert _state(*sale) == (2000, 300, 5500)  # commission 500 → 375 → 300 (proportional)
    page = _refund(client, sale[0], "30.01").get_data(as_text=True)
    assert "Only $30.00 of this payment is left to refund." in page
    assert len(stripe_sb.calls) == 2 and _state(*sale) == (2000, 300, 5500)
    assert at_stripe(sandbox, sale[0]) == 2000


@pytest.mark.parametrize("amount, message", [
    ("0", "greater than zero"), ("abc", "is not an amount"), ("1.234", "at most 2 decimal")])
def test_bad_amounts_are_refused_before_the_gateway(stripe_app, client, sale, stripe_sb,
                                                    amount, message):
    login(client, "finance")
    page = _refund(client, sale[0], amount).get_data(as_text=True)
    assert message in page and not stripe_sb.calls
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


def test_declined_refund_is_recorded_failed_and_changes_nothing_else(stripe_app, client, sale,
                                                                     sandbox):
    sandbox.sandbox.add_fault("stripe", "decline")  # 402 card_declined
    login(client, "finance")
    page = _refund(client, sale[0], "50.00").get_data(as_text=True)
    assert "The card issuer declined the refund" in page
    refund = db.session.scalar(select(Refund))
    assert refund.status == "failed" and "declined" in refund.failure_message
    assert _state(*sale) == (0, 500, 7500) and at_stripe(sandbox, sale[0]) == 0


def test_lost_answer_stays_pending_and_check_finishes_it_once(stripe_app, client, sale,
                                                             stripe_sb, sandbox):
    sandbox.sandbox.add_fault("stripe", "timeout")  # Stripe refunds; the answer is lost
    login(client, "finance")
    page = _refund(client, sale[0], "50.00").get_data(as_text=True)
    assert ("Stripe did not answer within 2 s, so we cannot tell whether the refund went "
            "through; it stays pending until “Check refund” finishes it, which never refunds "
            "twice.") in html.unescape(page)
    assert "twice" not in html.unescape(page).split("which never refunds twice.")[0]
    refund = db.session.scalar(select(Refund))
    assert refund.status == "pending" and _state(*sale) == (0, 500, 7500)
    assert at_stripe(sandbox, sale[0]) == 5000  # made at Stripe all the same
    token = csrf_token(client, "/admin/transaction/")
    page = client.post(f"/admin/transaction/action/check_refund/{sale[0]}/",
                       data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "Refunded $50.00" in page
    keys = {c.headers["Idempotency-Key"] for c in stripe_sb.calls if c.method == "POST"}
    assert keys == {refund.idempotency_key}
    assert _state(*sale) == (5000, 0, 2500) and at_stripe(sandbox, sale[0]) == 5000


def test_same_form_sent_twice_refunds_once(stripe_app, client, sale, stripe_sb, sandbox):
    login(client, "finance")
    _, key = _modal(client, sale[0])
    _refund(client, sale[0], "10.00", key=key)
    page = _refund(client, sale[0], "10.00", key=key).get_data(as_text=True)
    assert "already submitted" in page
    assert len(stripe_sb.calls) == 1 and _state(*sale)[0] == 1000
    assert at_stripe(sandbox, sale[0]) == 1000


def test_refund_without_csrf_token_is_refused(stripe_app, client, sale, stripe_sb):
    login(client, "finance")
    response = _refund(client, sale[0], "50.00", csrf=False)
    assert response.status_code == 400 and not stripe_sb.calls


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_roles_without_refund_permission_are_refused(stripe_app, client, sale, stripe_sb, role):
    login(client, role)
    assert client.get(f"/admin/transaction/action/refund/{sale[0]}/").status_code == 403
    token = csrf_token(client, "/admin/transaction/")
    client.post(f"/admin/transaction/action/refund/{sale[0]}/",
                data={"amount": "50.00", "reason": "duplicate", "currency": "USD",
                      "request_key": "x", "csrf_token": token})
    assert not stripe_sb.calls
    assert db.session.scalar(select(AuditEvent.outcome).where(AuditEvent.action == "refund")) == "denied"


def test_unconfigured_gateway_says_so_and_writes_nothing(app, client, sale):
    login(client, "finance")
    page = _refund(client, sale[0], "50.00").get_data(as_text=True)
    assert "Stripe is not configured" in page
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


def test_paypal_partial_refund_in_euros_takes_its_settled_share_off(app, client, sandbox,
                                                                   paypal_sb):
    """€40.00 settled as $43.20: refunding €15.00 takes 15/40 of $43.20 = $16.20 off."""
    paypal_app(app, sandbox)
    customer = factories.customer()
    factories.payment(customer, 1000)
    tx = factories.payment(customer, 4000, gateway="paypal", currency="EUR")  # at PayPal too
    capture = tx.gateway_ref
    db.session.commit()
    login(client, "finance")
    html, key = _modal(client, tx.id)
    page = client.post(f"/admin/transaction/action/refund/{tx.id}/?url=/admin/transaction/",
                       data={"amount": "15.00", "reason": "other", "note": "goodwill",
                             "currency": "EUR", "request_key": key,
                             "csrf_token": csrf_token(client, "/admin/transaction/")},
                       follow_redirects=True).get_data(as_text=True)
    assert "Refunded €15.00 through PayPal." in page
    assert refunded_cents(sandbox, "paypal", capture) == 1500
    refund = db.session.scalar(select(Refund))
    # one refund at PayPal (counted above); a retry of a slow answer, if any, carries the
    # same request id
    calls = [c for c in paypal_sb.calls if c.path.endswith("/refund")]
    assert calls and {c.headers["PayPal-Request-Id"] for c in calls} == {refund.idempotency_key}
    assert (refund.settlement_cents, refund.settlement_currency) == (1620, "USD")
    assert _state(tx.id, customer.id) == (1500, 0, 1000 + 4320 - 1620)
    assert "this EUR payment" in html and "share of what it settled at" in html
    assert "$10.00" in html  # 53.20 - 43.20


def test_paypal_already_refunded_is_explained(app, client, sandbox):
    paypal_app(app, sandbox)
    customer = factories.customer()
    tx = factories.payment(customer, 4000, gateway="paypal")  # at PayPal too
    db.session.commit()
    sb = sandbox.sandbox
    with sb.lock:  # refunded in PayPal's dashboard, unknown to the panel
        sb.paypal.add_refund(tx.gateway_ref, amount=4000, currency="USD", created=sb.now())
    login(client, "finance")
    page = _refund(client, tx.id, "40.00").get_data(as_text=True)
    assert "already fully refunded" in page
    assert db.session.scalar(select(Refund.status)) == "failed"
    assert _state(tx.id, customer.id) == (0, 0, 4000)
    assert refunded_cents(sandbox, "paypal", tx.gateway_ref) == 4000  # the dashboard's only


def test_ten_simultaneous_identical_requests_make_one_refund(stripe_app, sale, stripe_sb,
                                                             sandbox):
    clients = [stripe_app.test_client() for _ in range(10)]
    login(clients[0], "finance")
    for c in clients[1:]:
        c.post("/login", data={"email": "finance@example.com", "password": "correct horse battery",
                               "csrf_token": csrf_token(c)})
    _, key = _modal(clients[0], sale[0])
    tokens = [csrf_token(c, "/admin/transaction/") for c in clients]
    barrier = threading.Barrier(10)

    def send(c, token):
        barrier.wait()
        c.post(f"/admin/transaction/action/refund/{sale[0]}/",
               data={"amount": "50.00", "reason": "duplicate", "currency": "USD",
                     "request_key": key, "csrf_token": token})

    threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, tokens)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(stripe_sb.calls) == 1
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
    assert _state(*sale) == (5000, 0, 2500) and at_stripe(sandbox, sale[0]) == 5000
