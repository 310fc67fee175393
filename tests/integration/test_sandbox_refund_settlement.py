"""The sandbox's refund controls (issue 16, the tests' fakes folded into it): a refund the
gateway accepted as pending settles later and the panel learns it by the vendor's webhook,
delivered over HTTP; the controls answer under /_sandbox/ too; what they make keeps the
vendors' shapes (stripe-python's types, PayPal's published fields)."""

import lxml.html
import pytest
import requests
from sqlalchemy import select

from models import Customer, Refund, Transaction, db
from tests import factories
from tests.gateway_sandbox import wait_for_delivery
from tests.conftest import csrf_token, login
from tests.sandbox.shapes import paypal_problems, stripe_problems


def _control(delivering, path, **body):
    answer = requests.post(f"{delivering.url}/_sandbox{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _refund(client, tx_id, amount):
    modal = client.get(f"/admin/transaction/action/refund/{tx_id}/?modal=1").get_data(
        as_text=True)
    key = lxml.html.fromstring(modal).xpath("//input[@name='request_key']/@value")[0]
    return client.post(f"/admin/transaction/action/refund/{tx_id}/", follow_redirects=True,
                       data={"amount": amount, "reason": "requested_by_customer", "note": "",
                             "request_key": key,
                             "csrf_token": csrf_token(client, "/admin/customer/")}
                       ).get_data(as_text=True)


def _ours(tx_id, customer_id):
    db.session.expire_all()
    refund = db.session.scalar(select(Refund).where(Refund.transaction_id == tx_id))
    return (refund.status, db.session.get(Transaction, tx_id).refunded_cents,
            db.session.get(Customer, customer_id).lifetime_value_cents)


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_a_pending_stripe_refund_settles_later_by_webhook(app, client, delivering, outcome):
    sb = delivering.sandbox
    ref = _control(delivering, "/seed_payment", vendor="stripe", amount=5000,
                   currency="USD")["payment_intent"]
    customer = factories.customer()
    tx = factories.payment(customer, 5000, gateway_ref=ref)
    db.session.commit()
    tx_id, customer_id = tx.id, customer.id
    _control(delivering, "/refund_status", vendor="stripe", status="pending")
    login(client, "finance")

    page = _refund(client, tx_id, "20.00")

    assert "Stripe accepted the refund of $20.00; it is pending there." in page
    assert _ours(tx_id, customer_id) == ("pending", 0, 5000)
    refund = db.session.scalar(select(Refund))
    settled = _control(delivering, "/settle_refund", ref=refund.gateway_ref, status=outcome,
                       failure_reason="expired_or_canceled_card")
    assert settled["status"] == outcome and stripe_problems(settled) == []
    updated = [e for e in sb.stripe.events if e["type"] == "refund.updated"]
    assert [e["data"]["previous_attributes"] for e in updated] == [{"status": "pending"}]
    assert stripe_problems(updated[0]) == []

    expected = ("succeeded", 2000, 3000) if outcome == "succeeded" else ("failed", 0, 5000)
    assert wait_for_delivery(lambda: _ours(tx_id, customer_id) == expected), _ours(tx_id, customer_id)
    charge = sb.stripe.charges[sb.stripe.payment_intents[ref]["latest_charge"]]
    assert charge["amount_refunded"] == expected[1]  # the gateway's ledger agrees
    assert ("stripe", "refund.updated", 200) in [(v, t, s) for v, _, t, s in sb.deliveries.log]


def test_a_pending_paypal_refund_completes_later_by_webhook(app, client, delivering):
    sb = delivering.sandbox
    capture = _control(delivering, "/seed_payment", vendor="paypal", amount=4000,
                       currency="USD")["id"]
    customer = factories.customer()
    tx = factories.payment(customer, 4000, gateway="paypal", gateway_ref=capture)
    db.session.commit()
    tx_id, customer_id = tx.id, customer.id
    _control(delivering, "/refund_status", vendor="paypal", status="PENDING")
    login(client, "finance")

    page = _refund(client, tx_id, "15.00")

    assert "PayPal accepted the refund of $15.00; it is pending there." in page
    assert _ours(tx_id, customer_id) == ("pending", 0, 4000)
    assert sb.paypal.events == []  # PayPal announces a refund when it completes
    refund = db.session.scalar(select(Refund))
    settled = _control(delivering, "/settle_refund", ref=refund.gateway_ref, status="COMPLETED")
    assert paypal_problems(settled, ("id", "status", "amount", "links"), ("amount",)) == []
    assert [e["event_type"] for e in sb.paypal.events] == ["PAYMENT.CAPTURE.REFUNDED"]

    assert wait_for_delivery(lambda: _ours(tx_id, customer_id) == ("succeeded", 1500, 2500)), \
        _ours(tx_id, customer_id)
    assert sb.paypal.refunded(capture) == 1500
    assert sb.paypal.captures[capture]["status"] == "PARTIALLY_REFUNDED"


def test_the_controls_answer_over_http(delivering):
    sb = delivering.sandbox
    stripe_auth = {"Authorization": f"Bearer {sb.stripe_key}"}
    ref = _control(delivering, "/seed_payment", vendor="stripe", ref="pi_3ControlsOverHttp",
                   amount=3000, currency="EUR")["payment_intent"]
    assert ref == "pi_3ControlsOverHttp"

    def stripe_refund(key, amount="1000"):
        return requests.post(f"{delivering.stripe_base}/v1/refunds", headers={
            **stripe_auth, "Idempotency-Key": key},
            data={"payment_intent": ref, "amount": amount}, timeout=10)

    # an injected error with Stripe's fields and a header: nothing refunded
    _control(delivering, "/fault", vendor="stripe", status=402, error_type="card_error",
             code="expired_card", message="Your card has expired.",
             headers={"Retry-After": "0"})
    refused = stripe_refund("k1")
    assert refused.status_code == 402 and refused.headers["Retry-After"] == "0"
    assert refused.json()["error"]["code"] == "expired_card"
    # the same key replays the first answer until the window is over
    first = stripe_refund("k2").json()
    assert stripe_refund("k2").json()["id"] == first["id"]
    _control(delivering, "/forget_keys", vendor="stripe")
    assert stripe_refund("k2").json()["id"] != first["id"]
    over = stripe_refund("k3", "1500")
    assert over.json()["error"]["message"] == ("Refund amount (€15.00) is greater than "
                                               "unrefunded amount on charge (€10.00)")
    # PayPal: a revoked token is refused; a new one works
    token = requests.post(f"{delivering.paypal_base}/v1/oauth2/token", auth=sb.paypal_client,
                          data={"grant_type": "client_credentials"}, timeout=10).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    capture = _control(delivering, "/seed_payment", vendor="paypal", amount=1000,
                       currency="USD")["id"]
    assert requests.get(f"{delivering.paypal_base}/v2/payments/captures/{capture}",
                        headers=bearer, timeout=10).status_code == 200
    _control(delivering, "/revoke_tokens")
    refused = requests.get(f"{delivering.paypal_base}/v2/payments/captures/{capture}",
                           headers=bearer, timeout=10)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    # ... and so is an expired one (expires_in as PayPal said when it issued it)
    sb.paypal.token_lifetime = 0
    token = requests.post(f"{delivering.paypal_base}/v1/oauth2/token", auth=sb.paypal_client,
                          data={"grant_type": "client_credentials"}, timeout=10).json()
    assert token["expires_in"] == 0
    assert requests.get(f"{delivering.paypal_base}/v2/payments/captures/{capture}", timeout=10,
                        headers={"Authorization": f"Bearer {token['access_token']}"}
                        ).status_code == 401
    # unknown controls and bad values are refused with a reason
    bad = requests.post(f"{delivering.url}/_sandbox/refund_status",
                        json={"vendor": "paypal", "status": "ALMOST"}, timeout=10)
    assert bad.status_code == 400 and "ALMOST" in bad.json()["error"]
    assert requests.post(f"{delivering.url}/_sandbox/settle_refund",
                         json={"ref": "re_missing", "status": "succeeded"},
                         timeout=10).status_code == 400
    assert sum(r["amount"] for r in sb.stripe.refunds.values()) == 2000  # two made
