"""PayPalGateway against the sandbox's PayPal (sandbox/) on loopback; money counted there."""
import base64
import socket
import time

import pytest

from actions.errors import GatewayDeclined, GatewayNotConfigured, GatewayUnavailable
from actions.gateways.paypal import PayPalGateway
from sandbox import control
from sandbox.core import PAYPAL_CLIENT_ID as CLIENT_ID
from sandbox.core import PAYPAL_CLIENT_SECRET as CLIENT_SECRET
from tests.gateway_sandbox import refunded_cents

pytestmark = pytest.mark.timeout(30)


def refund(gateway, capture_id, amount_cents, currency="EUR", key="refund:1", note=None):
    return gateway.refund(capture_id, amount_cents, currency, reason="requested_by_customer",
                          note=note, idempotency_key=key)


def paypal(server, timeout=5, max_retries=0, secret=CLIENT_SECRET):
    return PayPalGateway(CLIENT_ID, secret, server.paypal_base, timeout=timeout,
                         max_retries=max_retries)


@pytest.fixture
def sb(sandbox):
    return sandbox.sandbox


def add_capture(sb, cents=5000, currency="EUR"):
    """A capture of `cents` (minor units) at the sandbox; its id."""
    return control.seed_payment(sb, "paypal", amount=cents, currency=currency)["id"]


def _calls(sb, test):
    with sb.lock:
        return [c for c in sb.calls if c.vendor == "paypal" and test(c.path)]


def refund_calls(sb):
    return _calls(sb, lambda path: path.endswith("/refund"))


def token_calls(sb):
    return _calls(sb, lambda path: path == "/v1/oauth2/token")


def lookup_calls(sb):
    return _calls(sb, lambda path: path.startswith("/v2/payments/refunds/"))


def test_partial_refund_request_and_result(sandbox, sb):
    capture = add_capture(sb)

    result = refund(paypal(sandbox), capture, 1000, key="refund:7", note="Sorry!")

    [call] = refund_calls(sb)
    assert call.path == f"/v2/payments/captures/{capture}/refund"
    assert call.body == {"amount": {"value": "10.00", "currency_code": "EUR"},
                         "note_to_payer": "Sorry!", "custom_id": "refund:7",
                         "invoice_id": "refund:7"}  # our id, which the refund keeps
    assert call.headers["PayPal-Request-Id"] == "refund:7"
    assert call.headers["Prefer"] == "return=representation"
    assert (result.status, result.failure_message) == ("succeeded", None)
    assert result.reference == result.raw["id"] and result.raw["amount"]["value"] == "10.00"
    assert refunded_cents(sandbox, "paypal", capture) == 1000


def test_full_refund_sends_no_amount(sandbox, sb):
    capture = add_capture(sb)
    gateway = paypal(sandbox)
    refund(gateway, capture, 1500, key="refund:1")

    refund(gateway, capture, None, key="refund:2")

    assert refund_calls(sb)[-1].body == {"custom_id": "refund:2",
                                                 "invoice_id": "refund:2"}
    assert refunded_cents(sandbox, "paypal", capture) == 5000


def test_yen_have_no_decimals(sandbox, sb):
    capture = add_capture(sb, 5000, "JPY")

    refund(paypal(sandbox), capture, 1500, currency="JPY")

    assert refund_calls(sb)[0].body["amount"] == {"value": "1500",
                                                          "currency_code": "JPY"}
    assert refunded_cents(sandbox, "paypal", capture) == 1500


def test_token_is_fetched_once_for_two_refunds(sandbox, sb):
    capture = add_capture(sb)
    gateway = paypal(sandbox)

    refund(gateway, capture, 1000, key="refund:1")
    refund(gateway, capture, 1000, key="refund:2")

    [token_call] = token_calls(sb)
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {basic}"
    assert token_call.body == {"grant_type": "client_credentials"}
    assert len({call.headers["Authorization"] for call in refund_calls(sb)}) == 1


def test_token_close_to_expiry_is_renewed(sandbox, sb):
    sb.paypal.token_lifetime = 60  # within the adapter's renewal margin
    capture = add_capture(sb)
    gateway = paypal(sandbox)

    refund(gateway, capture, 1000, key="refund:1")
    refund(gateway, capture, 1000, key="refund:2")

    assert len(token_calls(sb)) == 2


def test_token_paypal_forgot_is_renewed_once(sandbox, sb):
    capture = add_capture(sb)
    gateway = paypal(sandbox)
    refund(gateway, capture, 1000, key="refund:1")
    control.revoke_tokens(sb)

    refund(gateway, capture, 1000, key="refund:2")

    assert len(token_calls(sb)) == 2 and len(refund_calls(sb)) == 3
    assert refunded_cents(sandbox, "paypal", capture) == 2000


def test_wrong_client_secret(sandbox, sb):
    capture = add_capture(sb)

    with pytest.raises(GatewayNotConfigured, match="^PayPal rejected the client id/secret"):
        refund(paypal(sandbox, secret="stale"), capture, 1000)
    assert refund_calls(sb) == []


def test_same_request_id_refunds_once(sandbox, sb):
    capture = add_capture(sb)
    gateway = paypal(sandbox)

    first = refund(gateway, capture, 1000, key="refund:1")
    again = refund(gateway, capture, 1000, key="refund:1")

    assert again.reference == first.reference
    assert refunded_cents(sandbox, "paypal", capture) == 1000


def test_capture_fully_refunded(sandbox, sb):
    capture = add_capture(sb)
    gateway = paypal(sandbox)
    refund(gateway, capture, None, key="refund:1")

    with pytest.raises(GatewayDeclined) as caught:
        refund(gateway, capture, 1000, key="refund:2")

    assert caught.value.message == "PayPal says this payment is already fully refunded."
    assert (caught.value.gateway, caught.value.code) == ("paypal", "CAPTURE_FULLY_REFUNDED")


def test_refund_larger_than_what_is_left(sandbox, sb):
    capture = add_capture(sb)

    with pytest.raises(GatewayDeclined, match="^PayPal refused the refund: The refund amount "
                                              "must be less than or equal to") as caught:
        refund(paypal(sandbox), capture, 6000)
    assert caught.value.code == "REFUND_AMOUNT_EXCEEDED"


def test_unknown_capture(sandbox, sb):
    with pytest.raises(GatewayDeclined, match=r"^PayPal has no capture 0MISSING\.$"):
        refund(paypal(sandbox), "0MISSING", 1000)


@pytest.mark.parametrize(("http_status", "name", "issue", "error", "message"), [
    (422, "UNPROCESSABLE_ENTITY", "REFUND_TIME_LIMIT_EXCEEDED", GatewayDeclined,
     "PayPal refuses refunds after 180 days."),
    (403, "NOT_AUTHORIZED", "PERMISSION_DENIED", GatewayNotConfigured,
     "PayPal does not allow this app to refund (Not allowed here.); nothing was refunded."),
    (429, "RATE_LIMIT_REACHED", None, GatewayDeclined,
     "PayPal is limiting requests right now; nothing was refunded. Try again in a minute."),
])
def test_paypal_errors_become_ours(sandbox, sb, http_status, name, issue, error, message):
    capture = add_capture(sb)
    sb.fail("paypal", http_status, name=name, issue=issue, description="Not allowed here.")

    with pytest.raises(error) as caught:
        refund(paypal(sandbox), capture, 1000)

    assert type(caught.value) is error and caught.value.message == message
    assert caught.value.code == (issue or name)
    assert refunded_cents(sandbox, "paypal", capture) == 0


def test_server_error_is_retried_then_unavailable(sandbox, sb):
    capture = add_capture(sb)
    sb.add_fault("paypal", 500, times=3)

    with pytest.raises(GatewayUnavailable, match=r"^PayPal failed \(HTTP 500") as caught:
        refund(paypal(sandbox, max_retries=2), capture, 1000, key="refund:5")

    assert caught.value.outcome_unknown
    assert [call.headers["PayPal-Request-Id"] for call in refund_calls(sb)] == [
        "refund:5"] * 3
    assert refunded_cents(sandbox, "paypal", capture) == 0


def test_unavailable_once_then_refunded(sandbox, sb):
    capture = add_capture(sb)
    sb.fail("paypal", 503, headers={"Retry-After": "0"})

    result = refund(paypal(sandbox, max_retries=2), capture, 1000)

    assert result.status == "succeeded" and len(refund_calls(sb)) == 2
    assert refunded_cents(sandbox, "paypal", capture) == 1000


def test_timeout_then_safe_retry(sandbox, sb):
    capture = add_capture(sb)
    gateway = paypal(sandbox, timeout=10, max_retries=2)
    sb.add_fault("paypal", "timeout")  # PayPal refunds; its answer never arrives
    started = time.monotonic()

    with pytest.raises(GatewayUnavailable, match=r"^PayPal did not answer within 10 s, so we "
                                                 r"cannot tell whether the refund went through"):
        refund(gateway, capture, 1000, key="refund:3")

    assert time.monotonic() - started < 3 and len(refund_calls(sb)) == 1
    assert refunded_cents(sandbox, "paypal", capture) == 1000  # made there all the same
    refund(gateway, capture, 1000, key="refund:3")
    assert refunded_cents(sandbox, "paypal", capture) == 1000


@pytest.mark.parametrize(("paypal_status", "status", "failure_message"), [
    ("PENDING", "pending", None),
    ("FAILED", "failed", "PayPal could not complete the refund (echeck)."),
])
def test_refund_status(sandbox, sb, paypal_status, status, failure_message):
    capture = add_capture(sb)
    control.refund_status(sb, "paypal", paypal_status)

    result = refund(paypal(sandbox), capture, 1000)

    assert (result.status, result.failure_message) == (status, failure_message)
    assert sb.paypal.refunds[result.reference]["status"] == paypal_status


def test_connection_refused():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    gateway = PayPalGateway(CLIENT_ID, CLIENT_SECRET, f"http://127.0.0.1:{port}",
                            max_retries=0)

    with pytest.raises(GatewayUnavailable, match=r"^Could not reach PayPal .* before the "
                                                 r"refund was sent; nothing was refunded"):
        refund(gateway, "0CAPTURE", 1000)


def test_refund_status_asks_for_the_refund_and_maps_its_status(sandbox, sb):
    capture = add_capture(sb)
    control.refund_status(sb, "paypal", "PENDING")
    gateway = paypal(sandbox)
    made = refund(gateway, capture, 1000, key="refund:1")
    assert made.status == "pending"
    control.settle_refund(sb, made.reference, "COMPLETED")

    result = gateway.refund_status(made.reference)

    [call] = lookup_calls(sb)
    assert call.path == f"/v2/payments/refunds/{made.reference}"
    assert call.headers["Authorization"].startswith("Bearer ")
    assert (result.reference, result.status, result.failure_message) == (
        made.reference, "succeeded", None)
    other = refund(gateway, capture, 1000, key="refund:2")  # PayPal: pending, then failed
    control.settle_refund(sb, other.reference, "FAILED")
    assert gateway.refund_status(other.reference).failure_message == (
        "PayPal could not complete the refund (echeck).")
    assert refunded_cents(sandbox, "paypal", capture) == 1000  # the failed one not counted


def test_refund_status_of_an_unknown_refund(sandbox, sb):
    with pytest.raises(GatewayDeclined, match=r"^PayPal has no refund 0MISSING\.$") as caught:
        paypal(sandbox).refund_status("0MISSING")
    assert caught.value.code == "INVALID_RESOURCE_ID"


def test_refund_status_when_paypal_fails(sandbox, sb):
    sb.fail("paypal", 503, reads=True)

    with pytest.raises(GatewayUnavailable, match=r"^PayPal failed \(HTTP 503"):
        paypal(sandbox).refund_status("0SOMEREFUND")
