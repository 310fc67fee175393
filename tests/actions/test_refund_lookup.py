"""A refund whose answer was lost is looked up at the gateway by the id it carries there
before anything is sent again: past the gateway's idempotency window (Stripe: 24 hours) the
same key would make a second refund (issue 17, finding 15)."""
import pytest

from actions.bulk.refund_remaining import refund_remaining_row
from actions.errors import GatewayUnavailable
from actions.refund import check_refund, refund_transaction
from models import Refund, Transaction
from tests.actions.support import fresh, ltv, paid, refunds_of


@pytest.fixture
def finance(actors):
    return actors["finance"]


def _sent(gateway):
    return [call for call in gateway.calls if call[0] == "refund"]


@pytest.mark.parametrize("name", ["stripe", "paypal"])
def test_check_refund_a_day_later_finds_the_refund_instead_of_making_another(
        deps, finance, gateways, clock, name):
    gateway = gateways[name]
    tx = paid(gateways, 10000, gateway=name)
    gateway.fail_next("reset_after_success")  # made there; the answer never came
    with pytest.raises(GatewayUnavailable):
        refund_transaction(deps, finance, tx.id, 3000, "other")
    clock.advance(days=2)
    gateway.forget_keys()  # the key's idempotency window is over

    result = check_refund(deps, finance, refunds_of(tx.id)[0].id)

    assert result.category == "success"
    assert gateway.refunded_total(tx.gateway_ref) == 3000 and len(_sent(gateway)) == 1
    refund, = refunds_of(tx.id)
    assert refund.status == "succeeded" and refund.gateway_ref in gateway.refunds
    assert fresh(Transaction, tx.id).refunded_cents == 3000 and ltv(tx.customer_id) == 7000


def test_a_resumed_bulk_refund_row_finds_the_refund_instead_of_making_another(
        deps, finance, gateways, clock):
    gateway = gateways["stripe"]
    tx = paid(gateways, 10000)
    gateway.fail_next("reset_after_success")
    with pytest.raises(GatewayUnavailable):
        refund_remaining_row(deps, finance, tx.id, {"reason": "other"}, "job:1:row:1")
    clock.advance(days=2)
    gateway.forget_keys()

    outcome = refund_remaining_row(deps, finance, tx.id, {"reason": "other"}, "job:1:row:1")

    assert outcome.state == "done"
    assert gateway.refunded_total(tx.gateway_ref) == 10000 and len(_sent(gateway)) == 1
    assert fresh(Transaction, tx.id).refunded_cents == 10000 and ltv(tx.customer_id) == 0


def test_a_refund_that_never_reached_the_gateway_is_sent_once_when_checked(
        deps, finance, gateways):
    gateway = gateways["stripe"]
    tx = paid(gateways, 10000)
    gateway.fail_next("timeout")  # never made there
    with pytest.raises(GatewayUnavailable):
        refund_transaction(deps, finance, tx.id, 3000, "other")
    gateway.forget_keys()

    check_refund(deps, finance, refunds_of(tx.id)[0].id)

    assert gateway.refunded_total(tx.gateway_ref) == 3000 and len(_sent(gateway)) == 2
    assert fresh(Refund, refunds_of(tx.id)[0].id).status == "succeeded"
    assert ltv(tx.customer_id) == 7000
