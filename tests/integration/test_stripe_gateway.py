"""StripeGateway against localstripe (state) and the sandbox (sandbox/: today's API shapes,
state, injected faults); money counted at the sandbox."""
import socket
import time

import pytest

from actions.errors import (GatewayDeclined, GatewayNotConfigured, GatewayUnavailable,
                            InvalidRequest)
from actions.gateways.stripe import StripeGateway
from sandbox import control
from sandbox.core import STRIPE_API_KEY as API_KEY
from tests.gateway_sandbox import refunded_cents

pytestmark = pytest.mark.timeout(30)
#: the API version stripe-python 16 pins and sends with every request
API_VERSION = "2026-10-28.endive"


def refund(gateway, payment_ref, amount_cents, key="refund:1", reason="requested_by_customer",
           note=None):
    return gateway.refund(payment_ref, amount_cents, "EUR", reason=reason, note=note,
                          idempotency_key=key)


@pytest.fixture
def on_localstripe(localstripe):
    return StripeGateway(localstripe.api_key, api_base=localstripe.url, timeout=5,
                         max_retries=0)


@pytest.fixture
def sb(sandbox):
    """The sandbox's state, with a €50.00 payment pi_3Q (its charge ch_3Q…)."""
    control.seed_payment(sandbox.sandbox, "stripe", "pi_3Q", 5000, "EUR")
    return sandbox.sandbox


@pytest.fixture
def on_fake(sandbox, sb):
    return StripeGateway(API_KEY, api_base=sandbox.stripe_base, timeout=5, max_retries=0)


def calls(sb):
    """The Stripe calls the sandbox received, oldest first."""
    with sb.lock:
        return [c for c in sb.calls if c.vendor == "stripe"]


def test_partial_refunds_then_the_rest_of_a_payment_intent(localstripe, on_localstripe):
    payment = localstripe.card_payment(5000)
    charge_id = localstripe.get(f"/v1/payment_intents/{payment['id']}")["latest_charge"]["id"]

    for number, (amount, refunded) in enumerate([(1500, 1500), (1000, 2500), (2500, 5000)]):
        result = refund(on_localstripe, payment["id"], amount, key=f"refund:{number}",
                        reason="other", note=f"refund number {number}")
        assert result.status == "succeeded" and result.reference.startswith("re_")
        assert result.raw["amount"] == amount
        assert localstripe.get(f"/v1/charges/{charge_id}")["amount_refunded"] == refunded
        stored = localstripe.get(f"/v1/refunds/{result.reference}")
        assert stored["metadata"] == {"note": f"refund number {number}",
                                      "memberdesk_key": f"refund:{number}"}  # our id
    assert localstripe.get(f"/v1/charges/{charge_id}")["refunded"] is True


def test_refund_of_a_charge(localstripe, on_localstripe):
    charge = localstripe.card_charge(3000)

    result = refund(on_localstripe, charge["id"], 1200, reason="other")

    assert result.raw["charge"] == charge["id"]
    assert localstripe.get(f"/v1/charges/{charge['id']}")["amount_refunded"] == 1200


def test_unknown_payment_on_localstripe(on_localstripe):
    with pytest.raises(GatewayDeclined, match=r"^Stripe has no payment pi_missing\.$"):
        refund(on_localstripe, "pi_missing", 100, reason="other")


def test_refund_request_has_todays_shape(sandbox, sb, on_fake):
    result = refund(on_fake, "pi_3Q", 1500, key="refund:42", note="Broken on arrival")

    [call] = calls(sb)
    assert call.path == "/v1/refunds"
    assert call.form == {"payment_intent": "pi_3Q", "amount": "1500",
                         "reason": "requested_by_customer", "metadata[note]": "Broken on arrival",
                         "metadata[memberdesk_key]": "refund:42"}
    assert call.headers["Idempotency-Key"] == "refund:42"
    assert call.headers["Stripe-Version"] == API_VERSION
    assert result.status == "succeeded" and result.failure_message is None
    assert result.reference == result.raw["id"] and result.raw["amount"] == 1500
    assert refunded_cents(sandbox, "stripe", "pi_3Q") == 1500


def test_charge_refund_without_amount_reason_or_note(sandbox, sb, on_fake):
    refund(on_fake, "ch_3Q", None, reason="other")  # pi_3Q's charge

    assert calls(sb)[0].form == {"charge": "ch_3Q", "metadata[memberdesk_key]": "refund:1"}
    assert refunded_cents(sandbox, "stripe", "ch_3Q") == 5000  # all of it


def test_not_a_stripe_payment_sends_nothing(sb, on_fake):
    with pytest.raises(InvalidRequest, match="is not a Stripe payment"):
        refund(on_fake, "in_3Q", 100)
    assert calls(sb) == []


@pytest.mark.parametrize(("stripe_status", "failure_reason", "status", "failure_message"), [
    ("pending", None, "pending", None),
    ("requires_action", None, "pending", None),
    ("failed", "expired_or_canceled_card", "failed",
     "Stripe could not complete the refund (expired or canceled card)."),
    ("canceled", None, "failed", "Stripe could not complete the refund (canceled)."),
])
def test_refund_status(sb, on_fake, stripe_status, failure_reason, status,
                       failure_message):
    control.refund_status(sb, "stripe", stripe_status, failure_reason)

    result = refund(on_fake, "pi_3Q", 1500)

    assert (result.status, result.failure_message) == (status, failure_message)
    assert sb.stripe.refunds[result.reference]["status"] == stripe_status


def _refunded_already(sb, gateway):
    refund(gateway, "pi_3Q", None, key="refund:before")  # all of it, before


#: how the sandbox comes to answer each error: a fault injected, or the state it holds
ERRORS = {
    "card_declined": lambda sb, gateway: sb.add_fault("stripe", "decline"),
    "resource_missing": lambda sb, gateway: None,  # pi_3Q is unknown (see the test)
    "charge_already_refunded": _refunded_already,
    "amount_too_large": lambda sb, gateway: None,  # €60.00 of a €50.00 payment
    "rate_limit": lambda sb, gateway: sb.add_fault("stripe", 429),
    "forbidden": lambda sb, gateway: sb.fail(
        "stripe", 403, message="The provided key does not have access to refunds."),
    "api_error": lambda sb, gateway: sb.add_fault("stripe", 500),
}


@pytest.mark.parametrize(("case", "code", "error", "message"), [
    ("card_declined", "card_declined", GatewayDeclined,
     "The card issuer declined the refund: Your card was declined."),
    ("resource_missing", "resource_missing", GatewayDeclined,
     "Stripe has no payment pi_3Q."),
    ("charge_already_refunded", "charge_already_refunded", GatewayDeclined,
     "Stripe says this payment is already fully refunded."),
    ("amount_too_large", "amount_too_large", GatewayDeclined,
     "Stripe refused the refund: Refund amount (€60.00) is greater than "
     "unrefunded amount on charge (€50.00)"),
    ("rate_limit", "rate_limit", GatewayDeclined,
     "Stripe is limiting requests right now; nothing was refunded. Try again in a minute."),
    ("forbidden", None, GatewayNotConfigured,
     "Stripe does not let this API key (STRIPE_API_KEY) refund; "
     "nothing was refunded. Stripe said: The provided key does not have access to refunds."),
    ("api_error", None, GatewayUnavailable,
     "Stripe failed (HTTP 500: An unknown error occurred), so we cannot tell whether the "
     "refund went through. Trying again is safe: it will not refund twice."),
])
def test_stripe_errors_become_ours(sandbox, case, code, error, message):
    sb = sandbox.sandbox
    if case != "resource_missing":
        control.seed_payment(sb, "stripe", "pi_3Q", 5000, "EUR")
    gateway = StripeGateway(API_KEY, api_base=sandbox.stripe_base, timeout=5, max_retries=0)
    ERRORS[case](sb, gateway)
    before = refunded_cents(sandbox, "stripe", "pi_3Q") if case != "resource_missing" else 0

    with pytest.raises(error) as caught:
        refund(gateway, "pi_3Q", 6000)

    assert type(caught.value) is error and caught.value.message == message
    assert (caught.value.gateway, caught.value.code) == ("stripe", code)
    if case != "resource_missing":  # nothing refunded by the refused call
        assert refunded_cents(sandbox, "stripe", "pi_3Q") == before


def test_wrong_api_key(sandbox, sb):
    gateway = StripeGateway("sk_test_revoked", api_base=sandbox.stripe_base, max_retries=0)

    with pytest.raises(GatewayNotConfigured, match=r"^Stripe rejected the API key "
                                                   r"\(STRIPE_API_KEY\); nothing was refunded\. "
                                                   "Stripe said: Invalid API Key"):
        refund(gateway, "pi_3Q", 100)
    assert refunded_cents(sandbox, "stripe", "pi_3Q") == 0


def test_server_error_is_retried_with_the_same_key(sandbox, sb):
    sb.add_fault("stripe", 500, times=2)
    gateway = StripeGateway(API_KEY, api_base=sandbox.stripe_base, timeout=5, max_retries=1)

    with pytest.raises(GatewayUnavailable) as caught:
        refund(gateway, "pi_3Q", 100, key="refund:9")

    assert caught.value.outcome_unknown
    assert [call.headers["Idempotency-Key"] for call in calls(sb)] == ["refund:9"] * 2
    assert refunded_cents(sandbox, "stripe", "pi_3Q") == 0


def test_timeout(sandbox, sb):
    sb.add_fault("stripe", "timeout")  # Stripe refunds; its answer never arrives
    gateway = StripeGateway(API_KEY, api_base=sandbox.stripe_base, timeout=10, max_retries=0)
    started = time.monotonic()

    with pytest.raises(GatewayUnavailable, match=r"^Stripe did not answer within 10 s"):
        refund(gateway, "pi_3Q", 100)

    assert time.monotonic() - started < 3
    assert len(calls(sb)) == 1
    assert refunded_cents(sandbox, "stripe", "pi_3Q") == 100  # made there all the same


def test_connection_refused():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    gateway = StripeGateway(API_KEY, api_base=f"http://127.0.0.1:{port}", max_retries=0)

    with pytest.raises(GatewayUnavailable, match=r"^Could not reach Stripe"):
        refund(gateway, "pi_3Q", 100)


def test_refund_status_asks_for_the_refund_and_maps_its_status(sb, on_fake):
    control.refund_status(sb, "stripe", "pending")
    made = refund(on_fake, "pi_3Q", 1500)
    assert made.status == "pending"
    control.settle_refund(sb, made.reference, "succeeded")

    result = on_fake.refund_status(made.reference)

    call = calls(sb)[-1]
    assert call.path == f"/v1/refunds/{made.reference}" and call.form == {}
    assert call.headers["Stripe-Version"] == API_VERSION
    assert (result.reference, result.status, result.failure_message) == (
        made.reference, "succeeded", None)
    control.settle_refund(sb, made.reference, "failed", "lost_or_stolen_card")
    assert on_fake.refund_status(made.reference).failure_message == (
        "Stripe could not complete the refund (lost or stolen card).")


def test_refund_status_of_an_unknown_refund(sb, on_fake):
    with pytest.raises(GatewayDeclined, match=r"^Stripe has no refund re_missing\.$") as caught:
        on_fake.refund_status("re_missing")
    assert caught.value.code == "resource_missing"
