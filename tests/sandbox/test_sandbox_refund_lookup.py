"""A refund whose answer was lost is found at the sandbox by the key it carries there (the
look-up Check refund and a resumed job make before sending again; issue 17, finding 15)."""
from datetime import datetime, timedelta, timezone

import pytest

from actions.errors import GatewayUnavailable


@pytest.mark.parametrize("name", ["stripe", "paypal"])
def test_a_refund_made_but_unanswered_is_found_by_our_key(sb, gateways, accounts, name):
    payment = accounts["charge"]["payment_intent"] if name == "stripe" else \
        accounts["capture"]["id"]
    gateway = gateways[name]
    since = datetime.fromtimestamp(sb.now(), timezone.utc) - timedelta(minutes=1)
    assert gateway.find_refund(payment, "md-test-refund-1-abcd", since) is None
    sb.add_fault(name, "reset")  # the sandbox refunds, then the connection drops
    with pytest.raises(GatewayUnavailable):
        gateway.refund(payment, 1200, "USD", reason="other", note=None,
                       idempotency_key="md-test-refund-1-abcd")

    found = gateway.find_refund(payment, "md-test-refund-1-abcd", since)

    assert found is not None and found.status == "succeeded"
    stored = (sb.stripe.refunds if name == "stripe" else sb.paypal.refunds)[found.reference]
    assert stored["amount"] == 1200 if name == "stripe" else \
        stored["amount"]["value"] == "12.00"
    assert gateway.find_refund(payment, "md-test-refund-2-ffff", since) is None
