"""Lost disputes and chargebacks: counted once, whatever the order and duplication of their
events (finding 9), and a lost dispute leaves nothing refundable, nor the commission that
went with the money (finding 8). Issue 17."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from actions import ltv
from actions.deps import Deps
from actions.errors import GatewayNotConfigured, InvalidRequest
from actions.refund import ACTION as REFUND, preview_refund, refund_transaction
from actions.sync.events import process_event, store_event
from models import Customer, Dispute, Transaction, db
from tests import factories
from tests.conftest import make_admin
from tests.fakes import stripe_events as se
from tests.fakes.memory_gateway import MemoryGateway


def _no_reader(name):
    raise GatewayNotConfigured("not in this test", gateway=name)


DEPS = Deps(store_currency="USD", gateways=_no_reader)


def deliver(gateway, evt):
    """Store and process one delivery as the webhook worker does (a repeat is ignored)."""
    pk, new = store_event(gateway, evt["id"], evt.get("type") or evt["event_type"], None,
                          json.dumps(evt))
    if new:
        assert process_event(DEPS, pk) == "processed", db.session.get(
            __import__("models").WebhookEvent, pk).last_error


def _paypal_events(capture_id):
    """A $100 chargeback at PayPal, as PayPal reports it: the dispute opens, the money is
    reversed (PAYMENT.CAPTURE.REVERSED), the dispute resolves in the buyer's favour."""
    amount = {"currency_code": "USD", "value": "100.00"}
    dispute = {"dispute_id": f"PP-D-{capture_id}", "status": "OPEN",
               "reason": "UNAUTHORISED", "dispute_amount": amount,
               "create_time": "2026-01-05T10:00:00Z",
               "disputed_transactions": [{"seller_transaction_id": capture_id}]}
    lost = dict(dispute, status="RESOLVED",
                dispute_outcome={"outcome_code": "RESOLVED_BUYER_FAVOUR"})
    reversal = {"id": f"REV{capture_id}", "status": "COMPLETED", "amount": amount,
                "create_time": "2026-01-06T10:00:00Z",
                "links": [{"rel": "up", "method": "GET", "href":
                           f"https://api.paypal.com/v2/payments/captures/{capture_id}"}]}

    def event(kind, resource):
        return {"id": f"WH-{kind}-{capture_id}", "event_type": kind,
                "create_time": "2026-01-06T10:00:00Z", "resource": resource}
    return [event("CUSTOMER.DISPUTE.CREATED", dispute),
            event("PAYMENT.CAPTURE.REVERSED", reversal),
            event("CUSTOMER.DISPUTE.RESOLVED", lost)]


_captures = iter(range(1, 10**6))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(3)), repeats=st.lists(st.integers(0, 2), max_size=3))
def test_a_paypal_chargeback_is_one_lost_dispute_in_any_order(app, order, repeats):
    capture = f"CAPCB{next(_captures):010d}"
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway="paypal", gateway_ref=capture)
    db.session.commit()
    events = _paypal_events(capture)

    for i in list(order) + repeats:
        deliver("paypal", events[i])

    db.session.expire_all()
    disputes = db.session.scalars(select(Dispute).where(Dispute.transaction_id == tx.id)).all()
    assert [(d.status, d.amount_cents) for d in disputes] == [("lost", 10000)]
    assert db.session.get(Customer, customer.id).lifetime_value_cents == 0 == \
        ltv.actual_ltv(customer.id, "USD")


@pytest.fixture
def sale():
    """A $100.00 Stripe payment with a 10 % affiliate ($10.00 commission)."""
    customer = factories.customer()
    partner = factories.affiliate(rate_bp=1000)
    tx = factories.payment(customer, 10000, gateway_ref="pi_disputed",
                           affiliate_id=partner.id, commission_cents=1000)
    db.session.commit()
    return tx.id, customer.id


def _lose(tx_id, amount):
    tx = db.session.get(Transaction, tx_id)
    charge = {"id": "ch_disputed", "payment_intent": tx.gateway_ref, "amount": 10000,
              "currency": "usd"}
    bt = se.balance_transaction(-amount, "usd", fee=1500)
    deliver("stripe", se.event("charge.dispute.closed",
                               se.dispute(charge, "lost", bts=[bt], amount=amount)))
    db.session.expire_all()
    return db.session.get(Transaction, tx_id)


def test_a_payment_lost_in_full_to_a_dispute_cannot_be_refunded(app, sale):
    tx = _lose(sale[0], 10000)
    gateway = MemoryGateway()
    gateway.add_payment(tx.gateway_ref, 10000)

    assert tx.refundable_cents == 0 and not REFUND.available(tx)
    with pytest.raises(InvalidRequest, match="Nothing is left to refund"):
        refund_transaction(Deps(store_currency="USD", gateways=lambda name: gateway),
                           make_admin("finance"), tx.id, None, "other")
    assert gateway.calls == []
    assert tx.commission_cents == 0  # the affiliate keeps nothing of money taken back
    assert db.session.get(Customer, sale[1]).lifetime_value_cents == 0 == \
        ltv.actual_ltv(sale[1], "USD")


def test_after_a_partial_lost_dispute_the_refund_preview_takes_off_only_what_is_left(app, sale):
    tx = _lose(sale[0], 4000)

    assert tx.refundable_cents == 6000
    assert tx.commission_cents == 600
    preview = preview_refund(DEPS, tx)
    assert preview.amount_cents == 6000 and preview.full
    assert preview.ltv_after_cents == 0  # $100 - $40 lost - $60 refunded, not -$40
    assert preview.commission_reversed_cents == 600
