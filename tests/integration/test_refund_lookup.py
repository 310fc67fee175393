"""Check refund, a day after the answer was lost: the refund is looked up at Stripe / PayPal
by the key it carries there, not sent again (issue 17, finding 15), over real HTTP."""
import time

import pytest

from actions.deps import Deps
from actions.errors import GatewayUnavailable
from actions.gateways import PayPalGateway, StripeGateway
from actions.refund import check_refund, refund_transaction
from tests.conftest import make_admin
from tests.fakes import paypal_fake as pp
from tests.fakes.stripe_fake import API_KEY
from tests.integration.test_refund_races import _ledger
from tests import factories
from models import Refund, db


def _wait_for(condition):
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the fake never made the refund"
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


def test_stripe(app, stripe_fake):
    stripe_fake.currency = "usd"
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway_ref="pi_lost")
    db.session.commit()
    stripe_fake.hang(30)
    gateway = StripeGateway(API_KEY, stripe_fake.url, timeout=10, max_retries=0)

    refund_id = _lost_then_checked(gateway, lambda: stripe_fake.refunds, stripe_fake.release,
                                   stripe_fake.forget_keys, tx)

    assert stripe_fake.refunded_total("pi_lost") == 3000
    assert [c.method for c in stripe_fake.calls if c.path == "/v1/refunds"] == ["POST", "GET"]
    assert db.session.get(Refund, refund_id).gateway_ref in stripe_fake.refunds
    assert _ledger(tx.id, customer.id) == (1, 3000, 7000, 7000)


def test_paypal(app, paypal_fake):
    capture = paypal_fake.add_capture("100.00", "USD")
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway="paypal", gateway_ref=capture)
    db.session.commit()
    paypal_fake.delay = 30
    gateway = PayPalGateway(pp.CLIENT_ID, pp.CLIENT_SECRET, paypal_fake.url, timeout=10,
                            max_retries=0)

    refund_id = _lost_then_checked(gateway, lambda: paypal_fake._refunds, paypal_fake.release,
                                   paypal_fake.forget_request_ids, tx)

    assert paypal_fake.refunded_total(capture) == 3000 and len(paypal_fake.refund_calls) == 1
    assert db.session.get(Refund, refund_id).gateway_ref in paypal_fake._refunds
    assert _ledger(tx.id, customer.id) == (1, 3000, 7000, 7000)
