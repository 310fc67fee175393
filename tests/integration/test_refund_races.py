"""Panel refunds racing the gateway's webhooks: a refund is matched by the id we put on it at
the gateway, never by its amount (issue 17, finding 1). The gateways: the sandbox's, on
loopback; money counted there and here."""
import json

import pytest
from sqlalchemy import select

from actions import ltv
from actions.deps import Deps
from actions.errors import GatewayNotConfigured
from actions.gateways import PayPalGateway, StripeGateway
from actions.refund import refund_transaction
from actions.sync.events import process_event, store_event
from models import Customer, Refund, Transaction, db
from tests import factories
from tests.conftest import make_admin
from sandbox.core import PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, STRIPE_API_KEY
from tests.fakes import stripe_events as se
from tests.gateway_sandbox import refunded_cents


def _no_reader(name):
    raise GatewayNotConfigured("not in this test", gateway=name)


#: the webhook worker's collaborators: nothing to fetch (the events carry the objects)
HOOK_DEPS = Deps(store_currency="USD", gateways=_no_reader)


def deliver(gateway, event_type, obj):
    """Store and process one webhook event carrying `obj`, as the webhook worker does."""
    if gateway == "stripe":
        evt = se.event(event_type, obj)
        pk, _ = store_event("stripe", evt["id"], event_type, None, json.dumps(evt))
    else:
        evt = {"id": f"WH-{obj['id']}-{event_type}", "event_type": event_type,
               "resource_type": "refund", "create_time": obj.get("create_time"),
               "resource": obj}
        pk, _ = store_event("paypal", evt["id"], event_type, None, json.dumps(evt))
    assert process_event(HOOK_DEPS, pk) == "processed"


class InFlight:
    """The real adapter; after the gateway made a refund and before the panel hears the
    answer, `meanwhile[n]()` runs for the n-th refund call (another refund, a webhook...)."""

    def __init__(self, adapter):
        self.adapter, self.name, self.meanwhile, self.answers = adapter, adapter.name, {}, []

    def refund(self, *args, **kwargs):
        result = self.adapter.refund(*args, **kwargs)
        n = len(self.answers)
        self.answers.append(result)
        if n in self.meanwhile:
            self.meanwhile[n]()
        return result

    def __getattr__(self, name):
        return getattr(self.adapter, name)


def _stored(store, ref):
    """A refund as the sandbox holds it now (what a webhook carries)."""
    return json.loads(json.dumps(store[ref]))


@pytest.fixture
def payment(sandbox):
    """A $100.00 Stripe payment (at the sandbox too); the customer's lifetime value is
    $100.00."""
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway_ref="pi_race")
    db.session.commit()
    return tx.id, customer.id


def _ledger(tx_id, customer_id):
    db.session.rollback()
    db.session.expire_all()
    tx = db.session.get(Transaction, tx_id)
    refunds = db.session.scalars(select(Refund).where(Refund.transaction_id == tx_id)).all()
    customer = db.session.get(Customer, customer_id)
    return (len(refunds), tx.refunded_cents, customer.lifetime_value_cents,
            ltv.actual_ltv(customer_id, "USD"))


def test_two_stripe_refunds_with_webhooks_before_the_answers_are_counted_once(
        app, sandbox, payment):
    gateway = InFlight(StripeGateway(STRIPE_API_KEY, sandbox.stripe_base, timeout=5,
                                     max_retries=0))
    deps = Deps(store_currency="USD", gateways=lambda name: gateway)
    finance = make_admin("finance")
    tx_id, customer_id = payment

    def webhook(n):
        return lambda: deliver("stripe", "refund.created",
                               _stored(sandbox.sandbox.stripe.refunds,
                                       gateway.answers[n].reference))

    def second_refund():  # a second admin refunds $10 while the first is in flight
        refund_transaction(deps, finance, tx_id, 1000, "requested_by_customer")
    gateway.meanwhile = {0: second_refund, 1: webhook(1)}  # the 2nd's webhook comes first

    refund_transaction(deps, finance, tx_id, 1000, "requested_by_customer")
    webhook(0)()  # the first refund's webhook comes last

    assert refunded_cents(sandbox, "stripe", "pi_race") == 2000
    assert _ledger(tx_id, customer_id) == (2, 2000, 8000, 8000)
    refs = sorted(r.gateway_ref for r in db.session.scalars(select(Refund)))
    assert refs == sorted(a.reference for a in gateway.answers)


def test_every_refund_carries_our_id_at_the_gateway(app, sandbox, payment):
    gateway = StripeGateway(STRIPE_API_KEY, sandbox.stripe_base, timeout=5, max_retries=0)
    deps = Deps(store_currency="USD", gateways=lambda name: gateway)
    refund_transaction(deps, make_admin("finance"), payment[0], 1500, "requested_by_customer")
    refund = db.session.scalar(select(Refund))
    metadata = sandbox.sandbox.stripe.refunds[refund.gateway_ref]["metadata"]
    assert metadata["memberdesk_key"] == refund.idempotency_key
    assert f"-refund-{refund.id}-" in refund.idempotency_key
    assert refunded_cents(sandbox, "stripe", "pi_race") == 1500


def test_a_paypal_refund_carries_our_id_and_its_webhook_is_matched_on_it(app, sandbox):
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway="paypal")  # at PayPal too
    capture = tx.gateway_ref
    db.session.commit()
    gateway = InFlight(PayPalGateway(PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET,
                                     sandbox.paypal_base, timeout=5, max_retries=0))
    at_paypal = sandbox.sandbox.paypal.refunds
    deps = Deps(store_currency="USD", gateways=lambda name: gateway)
    finance = make_admin("finance")

    def webhook(n):
        return lambda: deliver("paypal", "PAYMENT.CAPTURE.REFUNDED",
                               _stored(at_paypal, gateway.answers[n].reference))

    gateway.meanwhile = {0: lambda: refund_transaction(deps, finance, tx.id, 1000, "other"),
                         1: webhook(1)}
    refund_transaction(deps, finance, tx.id, 1000, "other")
    webhook(0)()

    refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
    for refund in refunds:
        assert at_paypal[refund.gateway_ref]["custom_id"] == refund.idempotency_key
    assert refunded_cents(sandbox, "paypal", capture) == 2000
    assert _ledger(tx.id, customer.id) == (2, 2000, 8000, 8000)
