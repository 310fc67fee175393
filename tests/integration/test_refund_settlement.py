"""The exact settlement of a refund (Stripe's balance transaction, PayPal's breakdown)
replaces the proportional estimate recorded when the panel made it (issue 17, finding 7)."""
from sqlalchemy import select

from actions import ltv
from actions.deps import Deps
from actions.refund import refund_transaction
from models import Customer, Refund, db
from tests import factories
from tests.conftest import make_admin
from tests.fakes import stripe_events as se
from tests.fakes.memory_gateway import MemoryGateway
from tests.integration.test_dispute_money import deliver


def test_a_euro_refund_takes_off_what_stripe_says_it_cost_not_the_estimate(app):
    customer = factories.customer()
    # €100.00 paid, settled as $108.00
    tx = factories.payment(customer, 10000, currency="EUR", gateway_ref="pi_euro",
                           settlement_cents=10800, settlement_currency="USD")
    db.session.commit()
    gateway = MemoryGateway()
    gateway.add_payment("pi_euro", 10000, "EUR")
    refund_transaction(Deps(store_currency="USD", gateways=lambda name: gateway),
                       make_admin("finance"), tx.id, 5000, "other")
    refund = db.session.scalar(select(Refund))
    assert (refund.settlement_cents, refund.settlement_currency) == (5400, "USD")  # estimate

    # Stripe converted the refund at the day's rate: $52.50 left the balance
    bt = se.balance_transaction(-5250, "usd")
    obj = {"id": refund.gateway_ref, "object": "refund", "amount": 5000, "currency": "eur",
           "charge": "ch_euro", "payment_intent": "pi_euro", "status": "succeeded",
           "balance_transaction": bt, "created": 1767398400, "reason": None,
           "metadata": {"memberdesk_key": refund.idempotency_key}}
    deliver("stripe", se.event("refund.updated", obj))
    deliver("stripe", se.event("refund.updated", obj))  # a repeat changes nothing more

    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert (refund.settlement_cents, refund.settlement_currency) == (5250, "USD")
    assert db.session.get(Customer, customer.id).lifetime_value_cents == 10800 - 5250
    assert ltv.find_drift("USD") == []


def test_a_converted_paypal_refund_takes_off_what_paypal_says_it_cost(app):
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway="paypal", currency="EUR",
                           gateway_ref="CAPEURO00001", settlement_cents=10800,
                           settlement_currency="USD")
    db.session.commit()
    gateway = MemoryGateway(name="paypal")
    gateway.add_payment("CAPEURO00001", 10000, "EUR")
    refund_transaction(Deps(store_currency="USD", gateways=lambda name: gateway),
                       make_admin("finance"), tx.id, 5000, "other")
    refund = db.session.scalar(select(Refund))
    resource = {"id": refund.gateway_ref, "status": "COMPLETED", "custom_id":
                refund.idempotency_key, "amount": {"value": "50.00", "currency_code": "EUR"},
                "create_time": "2026-01-03T10:00:00Z",
                "seller_payable_breakdown": {
                    "gross_amount": {"value": "50.00", "currency_code": "EUR"},
                    "paypal_fee": {"value": "0.00", "currency_code": "EUR"},
                    "net_amount": {"value": "50.00", "currency_code": "EUR"},
                    "net_amount_in_receivable_currency": {"value": "52.50",
                                                          "currency_code": "USD"}},
                "links": [{"rel": "up", "href": "https://api.paypal.com/v2/payments/"
                                                "captures/CAPEURO00001"}]}
    deliver("paypal", {"id": "WH-REFUND-EURO", "event_type": "PAYMENT.CAPTURE.REFUNDED",
                       "create_time": "2026-01-03T10:00:00Z", "resource": resource})

    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert (refund.settlement_cents, refund.settlement_currency) == (5250, "USD")
    assert db.session.get(Customer, customer.id).lifetime_value_cents == 10800 - 5250
    assert ltv.find_drift("USD") == []
