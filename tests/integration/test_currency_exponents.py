"""Currency exponents per gateway, from one table (issue 17, finding 18): what each gateway's
API is sent and what we read back, over HTTP against the sandbox's gateways."""
import pytest
from sqlalchemy import select

from actions.errors import InvalidRequest
from actions.gateways import currencies as cur
from actions.gateways.paypal import PayPalGateway
from actions.gateways.stripe import StripeGateway
from models import Transaction, db
from sandbox import control
from sandbox.core import PAYPAL_CLIENT_ID as CLIENT_ID
from sandbox.core import PAYPAL_CLIENT_SECRET as CLIENT_SECRET
from sandbox.core import STRIPE_API_KEY as API_KEY
from tests.fakes import stripe_events as se
from tests.gateway_sandbox import refunded_cents
from tests.webhook_helpers import hook_app, post_stripe, settle  # noqa: F401

pytestmark = pytest.mark.timeout(30)

#: (currency, our minor units, what Stripe's API is sent), from Stripe's currency page
STRIPE_CASES = [("USD", 1050, 1050), ("JPY", 500, 500), ("UGX", 5000, 5000),
                ("ISK", 500, 50000),  # zero-decimal, sent in two-decimal form
                ("HUF", 100050, 100050), ("TWD", 1050, 1050),  # two decimals in charges
                ("KWD", 5120, 5120)]  # three decimals, last digit 0
#: (currency, our minor units, PayPal's decimal string), from PayPal's currency codes page
PAYPAL_CASES = [("USD", 1050, "10.50"), ("EUR", 4900, "49.00"), ("JPY", 1000, "1000"),
                ("HUF", 100000, "1000"), ("TWD", 30000, "300")]


@pytest.mark.parametrize(("currency", "ours", "sent"), STRIPE_CASES)
def test_stripe_amounts_there_and_back(currency, ours, sent):
    assert cur.to_stripe(ours, currency) == sent
    assert cur.from_stripe(sent, currency) == ours


@pytest.mark.parametrize(("currency", "ours", "sent"), PAYPAL_CASES)
def test_paypal_amounts_there_and_back(currency, ours, sent):
    assert cur.to_paypal(ours, currency) == sent
    assert cur.from_paypal(sent, currency) == ours


@pytest.mark.parametrize(("gateway", "currency", "ours"), [
    ("stripe", "KWD", 5124),  # Stripe: the last of three decimals must be 0
    ("paypal", "HUF", 100050), ("paypal", "TWD", 1001)])  # PayPal: no decimals
def test_amounts_a_gateway_cannot_take_are_refused_with_a_message(gateway, currency, ours):
    with pytest.raises(InvalidRequest, match="cannot be sent through"):
        cur.to_gateway_units(gateway, ours, currency)


def _calls(sandbox, vendor, test):
    with sandbox.sandbox.lock:
        return [c for c in sandbox.sandbox.calls if c.vendor == vendor and test(c.path)]


def test_an_isk_refund_reaches_stripe_in_two_decimal_form(sandbox):
    # a 1,000 kr payment at Stripe, written as Stripe writes ISK: 100000
    control.seed_payment(sandbox.sandbox, "stripe", "pi_isk", 100000, "ISK")
    gateway = StripeGateway(API_KEY, api_base=sandbox.stripe_base, timeout=5, max_retries=0)
    gateway.refund("pi_isk", 500, "ISK", reason="other", note=None, idempotency_key="r:isk")
    [call] = _calls(sandbox, "stripe", lambda path: path == "/v1/refunds")
    assert call.form["amount"] == "50000"
    assert refunded_cents(sandbox, "stripe", "pi_isk") == 50000  # 500 kr, in Stripe's units


def test_a_huf_refund_reaches_paypal_without_decimals_and_fractions_send_nothing(sandbox):
    capture = control.seed_payment(sandbox.sandbox, "paypal", amount=500000,
                                   currency="HUF")["id"]  # 5,000 Ft
    gateway = PayPalGateway(CLIENT_ID, CLIENT_SECRET, sandbox.paypal_base, timeout=5,
                            max_retries=0)

    def refund_calls():
        return _calls(sandbox, "paypal", lambda path: path.endswith("/refund"))
    with pytest.raises(InvalidRequest):
        gateway.refund(capture, 100050, "HUF", reason="other", note=None,
                       idempotency_key="r:huf:1")
    assert refund_calls() == []
    gateway.refund(capture, 100000, "HUF", reason="other", note=None, idempotency_key="r:huf:2")
    [call] = refund_calls()
    assert call.body["amount"] == {"value": "1000", "currency_code": "HUF"}
    assert refunded_cents(sandbox, "paypal", capture) == 100000  # 1,000 Ft


def test_an_isk_payment_from_stripe_is_stored_in_kronur(hook_app, client, stripe_reads):
    cust = se.customer()
    bt = stripe_reads.add(se.balance_transaction(50000, "isk", 1500))
    post_stripe(client, se.event("charge.succeeded", se.charge(cust["id"], 50000, "isk",
                                                               bt["id"])))
    settle()
    tx = db.session.scalar(select(Transaction))
    assert (tx.amount_cents, tx.currency) == (500, "ISK")  # 500 kr, shown as "ISK 500"
    assert (tx.settlement_cents, tx.settlement_currency, tx.fee_cents) == (500, "ISK", 15)
