"""StripeGateway's subscription verbs against localstripe's state (what it supports).

localstripe cannot take today's plan swap (it answers `proration_behavior` with HTTP 500 and
ignores `items[][price]`), inline prices, previews or pause: those are tested against the
HTTP fake in test_stripe_subscriptions.py.
"""
from datetime import datetime, timezone

import pytest

from actions.errors import GatewayDeclined
from actions.gateways.stripe import StripeGateway

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def gateway(localstripe):
    return StripeGateway(localstripe.api_key, api_base=localstripe.url, timeout=5,
                         max_retries=0)


def test_reads_a_subscription_in_the_older_layout(localstripe, gateway):
    sub = localstripe.subscription(3000)

    state = gateway.get_subscription(sub["id"])

    assert state.status == "active" and not state.cancel_at_period_end
    assert state.period_end == datetime.fromtimestamp(sub["current_period_end"], timezone.utc)
    assert (state.amount_cents, state.currency) == (3000, "EUR")
    assert state.price_ref == sub["plan"]["id"]


def test_cancel_at_period_end_then_undo_then_cancel_now(localstripe, gateway):
    sub = localstripe.subscription(3000)

    gateway.cancel(sub["id"], at_period_end=True, idempotency_key="subscription_change:1")

    stored = localstripe.get(f"/v1/subscriptions/{sub['id']}")
    assert stored["cancel_at_period_end"] is True and stored["status"] == "active"

    gateway.undo_cancel(sub["id"], idempotency_key="subscription_change:2")
    assert localstripe.get(f"/v1/subscriptions/{sub['id']}")["cancel_at_period_end"] is False

    result = gateway.cancel(sub["id"], at_period_end=False,
                            idempotency_key="subscription_change:3")
    assert result.state.status == "canceled"
    assert localstripe.get(f"/v1/subscriptions/{sub['id']}")["status"] == "canceled"


def test_unknown_subscription(gateway):
    with pytest.raises(GatewayDeclined, match=r"^Stripe has no subscription sub_missing\.$"):
        gateway.cancel("sub_missing", at_period_end=True, idempotency_key="k")
