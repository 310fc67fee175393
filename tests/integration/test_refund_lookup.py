"""Check refund, a day after the answer was lost: the refund is looked up at Stripe / PayPal
by the key it carries there, not sent again (issue 17, finding 15), over real HTTP to the
sandbox, whose idempotency window is made to pass."""
import time

import pytest

from actions.deps import Deps
from actions.errors import GatewayUnavailable
from actions.gateways import PayPalGateway, StripeGateway
from actions.refund import check_refund, refund_transaction
from tests.conftest import make_admin
from sandbox import control
from sandbox.core import PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, STRIPE_API_KEY
from tests.gateway_sandbox import refunded_cents
from tests.integration.test_refund_races import _ledger
from tests import factories
from models import Refund, db


def _wait_for(condition):
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the sandbox never made the refund"
        time.sleep(0.05)


def _lost_then_checked(gateway, fake_made_it, release, forget, tx):
    deps = Deps(store_currency="USD", gateways=lambda name: gateway)
    finance = make_admin("finance")
    with pytest.raises(GatewayUnavailable):
        refund_transaction(deps, finance, tx.id, 3000, "other")
    release()
    _wait_for(fake_made_it)  # made there after all; the panel never heard
    forget()  # the idempotency window is over
    refund = db.session.query(Refund).one()
    assert refund.status == "pending" and refund.gateway_ref is None
    result = check_refund(deps, finance, refund.id)
    assert result.category == "success", result.message
    return refund.id


def _calls(sb, vendor):
    with sb.lock:
        return [c for c in sb.calls if c.vendor == vendor]


def test_stripe(app, sandbox):
    sb = sandbox.sandbox
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway_ref="pi_lost")  # at the sandbox too
    db.session.commit()
    sb.add_fault("stripe", "timeout")  # Stripe refunds; the answer never arrives
    gateway = StripeGateway(STRIPE_API_KEY, sandbox.stripe_base, timeout=10, max_retries=0)

    refund_id = _lost_then_checked(gateway, lambda: sb.stripe.refunds, sb.release,
                                   lambda: control.forget_keys(sb, "stripe"), tx)

    assert refunded_cents(sandbox, "stripe", "pi_lost") == 3000
    assert [c.method for c in _calls(sb, "stripe") if c.path == "/v1/refunds"] == \
        ["POST", "GET"]
    assert db.session.get(Refund, refund_id).gateway_ref in sb.stripe.refunds
    assert _ledger(tx.id, customer.id) == (1, 3000, 7000, 7000)


def test_paypal(app, sandbox):
    sb = sandbox.sandbox
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway="paypal")  # at the sandbox too
    capture = tx.gateway_ref
    db.session.commit()
    sb.add_fault("paypal", "timeout")  # PayPal refunds; the answer never arrives
    gateway = PayPalGateway(PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, sandbox.paypal_base,
                            timeout=10, max_retries=0)

    refund_id = _lost_then_checked(gateway, lambda: sb.paypal.refunds, sb.release,
                                   lambda: control.forget_keys(sb, "paypal"), tx)

    refund_calls = [c for c in _calls(sb, "paypal") if c.path.endswith("/refund")]
    assert refunded_cents(sandbox, "paypal", capture) == 3000 and len(refund_calls) == 1
    assert db.session.get(Refund, refund_id).gateway_ref in sb.paypal.refunds
    assert _ledger(tx.id, customer.id) == (1, 3000, 7000, 7000)
