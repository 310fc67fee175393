"""Issue 13, Proof: refund faults × both gateways, money counted at the gateway (its fake)."""
import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Customer, Refund, Transaction, db
from tests import factories
from tests.conftest import csrf_token, login
from tests.fakes import paypal_fake as pp
from tests.fakes.reset_proxy import reset_after_success
from tests.fakes.stripe_fake import API_KEY

pytestmark = pytest.mark.timeout(120)
FAULTS = ["timeout", "reset_after_success", "429", "500", "decline"]
UNKNOWN_OUTCOME = {"timeout", "reset_after_success", "500"}  # the gateway may have acted


class StripeSide:
    name, refund_path = "stripe", "/v1/refunds"

    def __init__(self, app, fake):
        self.app, self.fake = app, fake
        self.point_at(fake.url)

    def point_at(self, url):
        self.app.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=url,
                               STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=10)

    def payment(self, customer):
        return factories.payment(customer, 5000, gateway="stripe")

    def break_with(self, fault):
        {"timeout": lambda: self.fake.hang(60),
         "429": lambda: self.fake.fail(429, "invalid_request_error", "rate_limit",
                                       "Too many requests."),
         "500": lambda: self.fake.fail(500, "api_error", None, "An unknown error occurred"),
         "decline": lambda: self.fake.fail(402, "card_error", "card_declined",
                                           "Your card was declined."),
         }.get(fault, lambda: None)()

    def heal(self):
        self.fake.release()
        self.fake.refund_status("succeeded")
        self.point_at(self.fake.url)

    def refunded_at_gateway(self, tx):
        return self.fake.refunded_total(tx.gateway_ref)


class PayPalSide:
    name, refund_path = "paypal", "/refund"

    def __init__(self, app, fake):
        self.app, self.fake = app, fake
        self.point_at(fake.url)

    def point_at(self, url):
        self.app.config.update(PAYPAL_CLIENT_ID=pp.CLIENT_ID, PAYPAL_CLIENT_SECRET=pp.CLIENT_SECRET,
                               PAYPAL_API_BASE=url, PAYPAL_MAX_RETRIES=0, PAYPAL_TIMEOUT=10)

    def payment(self, customer):
        self.capture = self.fake.add_capture("50.00", "USD")
        return factories.payment(customer, 5000, gateway="paypal", gateway_ref=self.capture)

    def break_with(self, fault):
        if fault == "timeout":
            self.fake.delay = 60
        elif fault == "429":
            self.fake.fail(429, "RATE_LIMIT_REACHED")
        elif fault == "500":
            self.fake.fail(500, "INTERNAL_SERVER_ERROR")
        elif fault == "decline":
            self.fake.fail(422, "UNPROCESSABLE_ENTITY", issue="REFUND_NOT_ALLOWED",
                           description="Refund refused by the payer's bank.")

    def heal(self):
        self.fake.release()
        self.point_at(self.fake.url)

    def refunded_at_gateway(self, tx):
        return int(Decimal(self.fake.refunded(tx.gateway_ref)) * 100)


@pytest.fixture(params=["stripe", "paypal"])
def side(request, app, stripe_fake, paypal_fake):
    return (StripeSide(app, stripe_fake) if request.param == "stripe"
            else PayPalSide(app, paypal_fake))


def _refund(client, tx_id, amount):
    page = client.get(f"/admin/transaction/action/refund/{tx_id}/").get_data(as_text=True)
    key = re.search(r'name="request_key"[^>]*value="([^"]*)"', page).group(1)
    return client.post(f"/admin/transaction/action/refund/{tx_id}/", data={
        "amount": amount, "reason": "requested_by_customer", "currency": "USD",
        "request_key": key, "csrf_token": csrf_token(client, "/admin/transaction/")},
        follow_redirects=True)


def _ours(tx_id, customer_id):
    db.session.expire_all()
    tx = db.session.get(Transaction, tx_id)
    return tx, db.session.get(Customer, customer_id).lifetime_value_cents


@pytest.mark.parametrize("fault", FAULTS)
def test_refund_fault_leaves_gateway_and_records_agreeing(app, client, side, fault,
                                                          reliability):
    customer = factories.customer()
    tx = side.payment(customer)
    db.session.commit()
    tx_id, customer_id, ltv_before = tx.id, customer.id, customer.lifetime_value_cents
    login(client, "finance")
    side.break_with(fault)
    if fault == "reset_after_success":
        with reset_after_success(side.fake.url, side.refund_path) as proxy:
            side.point_at(proxy.url)
            response = _refund(client, tx_id, "20.00")
        assert proxy.resets == 1
    else:
        response = _refund(client, tx_id, "20.00")
    assert response.status_code == 200
    refund = db.session.scalar(select(Refund).where(Refund.transaction_id == tx_id))
    tx, _ = _ours(tx_id, customer_id)
    if fault in UNKNOWN_OUTCOME:
        assert refund.status == "pending" and "stays pending" in response.get_data(as_text=True)
    else:
        assert refund.status == "failed" and side.refunded_at_gateway(tx) == 0
    assert tx.refunded_cents == 0  # nothing counted before the gateway said yes

    side.heal()
    if refund.status == "pending":  # "Check refund" repeats the call with the same key
        client.post(f"/admin/transaction/action/check_refund/{tx_id}/",
                    data={"csrf_token": csrf_token(client, "/admin/transaction/")})
    tx, ltv = _ours(tx_id, customer_id)
    expected = 2000 if fault in UNKNOWN_OUTCOME else 0
    assert side.refunded_at_gateway(tx) == tx.refunded_cents == expected
    assert ltv == ltv_before - expected
    statuses = db.session.scalars(select(Refund.status).where(Refund.transaction_id == tx_id))
    assert list(statuses) == ["succeeded" if expected else "failed"]

    _refund(client, tx_id, "30.00" if expected else "50.00")  # the rest, with a fresh form
    tx, ltv = _ours(tx_id, customer_id)
    assert side.refunded_at_gateway(tx) == tx.refunded_cents == 5000
    assert ltv == ltv_before - 5000
    client.post(f"/admin/transaction/action/refund/{tx_id}/", data={  # the button is gone
        "amount": "0.01", "reason": "requested_by_customer", "request_key": uuid.uuid4().hex,
        "csrf_token": csrf_token(client, "/admin/transaction/")})
    tx, _ = _ours(tx_id, customer_id)
    assert side.refunded_at_gateway(tx) == tx.refunded_cents == 5000  # never more than paid
    reliability.count("faults")
