"""PayPalGateway against an HTTP fake of PayPal's REST API on loopback."""
import base64
import socket
import time

import pytest

from actions.errors import GatewayDeclined, GatewayNotConfigured, GatewayUnavailable
from actions.gateways.paypal import PayPalGateway
from tests.fakes.paypal_fake import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.timeout(30)


def refund(gateway, capture_id, amount_cents, currency="EUR", key="refund:1", note=None):
    return gateway.refund(capture_id, amount_cents, currency, reason="requested_by_customer",
                          note=note, idempotency_key=key)


def paypal(fake, timeout=5, max_retries=0, secret=CLIENT_SECRET):
    return PayPalGateway(CLIENT_ID, secret, fake.url, timeout=timeout, max_retries=max_retries)


def test_partial_refund_request_and_result(paypal_fake):
    capture = paypal_fake.add_capture("50.00")

    result = refund(paypal(paypal_fake), capture, 1000, key="refund:7", note="Sorry!")

    [call] = paypal_fake.refund_calls
    assert call.path == f"/v2/payments/captures/{capture}/refund"
    assert call.body == {"amount": {"value": "10.00", "currency_code": "EUR"},
                         "note_to_payer": "Sorry!", "custom_id": "refund:7",
                         "invoice_id": "refund:7"}  # our id, which the refund keeps
    assert call.headers["PayPal-Request-Id"] == "refund:7"
    assert call.headers["Prefer"] == "return=representation"
    assert (result.status, result.failure_message) == ("succeeded", None)
    assert result.reference == result.raw["id"] and result.raw["amount"]["value"] == "10.00"
    assert paypal_fake.refunded(capture) == "10.00"


def test_full_refund_sends_no_amount(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    gateway = paypal(paypal_fake)
    refund(gateway, capture, 1500, key="refund:1")

    refund(gateway, capture, None, key="refund:2")

    assert paypal_fake.refund_calls[-1].body == {"custom_id": "refund:2",
                                                 "invoice_id": "refund:2"}
    assert paypal_fake.refunded(capture) == "50.00"


def test_yen_have_no_decimals(paypal_fake):
    capture = paypal_fake.add_capture("5000", "JPY")

    refund(paypal(paypal_fake), capture, 1500, currency="JPY")

    assert paypal_fake.refund_calls[0].body["amount"] == {"value": "1500",
                                                          "currency_code": "JPY"}
    assert paypal_fake.refunded(capture) == "1500"


def test_token_is_fetched_once_for_two_refunds(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    gateway = paypal(paypal_fake)

    refund(gateway, capture, 1000, key="refund:1")
    refund(gateway, capture, 1000, key="refund:2")

    [token_call] = paypal_fake.token_calls
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {basic}"
    assert token_call.body == {"grant_type": "client_credentials"}
    assert len({call.headers["Authorization"] for call in paypal_fake.refund_calls}) == 1


def test_token_close_to_expiry_is_renewed(paypal_fake):
    paypal_fake.token_lifetime = 60  # within the adapter's renewal margin
    capture = paypal_fake.add_capture("50.00")
    gateway = paypal(paypal_fake)

    refund(gateway, capture, 1000, key="refund:1")
    refund(gateway, capture, 1000, key="refund:2")

    assert len(paypal_fake.token_calls) == 2


def test_token_paypal_forgot_is_renewed_once(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    gateway = paypal(paypal_fake)
    refund(gateway, capture, 1000, key="refund:1")
    paypal_fake.revoke_tokens()

    refund(gateway, capture, 1000, key="refund:2")

    assert len(paypal_fake.token_calls) == 2 and len(paypal_fake.refund_calls) == 3
    assert paypal_fake.refunded(capture) == "20.00"


def test_wrong_client_secret(paypal_fake):
    capture = paypal_fake.add_capture("50.00")

    with pytest.raises(GatewayNotConfigured, match="^PayPal rejected the client id/secret"):
        refund(paypal(paypal_fake, secret="stale"), capture, 1000)
    assert paypal_fake.refund_calls == []


def test_same_request_id_refunds_once(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    gateway = paypal(paypal_fake)

    first = refund(gateway, capture, 1000, key="refund:1")
    again = refund(gateway, capture, 1000, key="refund:1")

    assert again.reference == first.reference
    assert paypal_fake.refunded(capture) == "10.00"


def test_capture_fully_refunded(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    gateway = paypal(paypal_fake)
    refund(gateway, capture, None, key="refund:1")

    with pytest.raises(GatewayDeclined) as caught:
        refund(gateway, capture, 1000, key="refund:2")

    assert caught.value.message == "PayPal says this payment is already fully refunded."
    assert (caught.value.gateway, caught.value.code) == ("paypal", "CAPTURE_FULLY_REFUNDED")


def test_refund_larger_than_what_is_left(paypal_fake):
    capture = paypal_fake.add_capture("50.00")

    with pytest.raises(GatewayDeclined, match="^PayPal refused the refund: The refund amount "
                                              "must be less than or equal to") as caught:
        refund(paypal(paypal_fake), capture, 6000)
    assert caught.value.code == "REFUND_AMOUNT_EXCEEDED"


def test_unknown_capture(paypal_fake):
    with pytest.raises(GatewayDeclined, match=r"^PayPal has no capture 0MISSING\.$"):
        refund(paypal(paypal_fake), "0MISSING", 1000)


@pytest.mark.parametrize(("http_status", "name", "issue", "error", "message"), [
    (422, "UNPROCESSABLE_ENTITY", "REFUND_TIME_LIMIT_EXCEEDED", GatewayDeclined,
     "PayPal refuses refunds after 180 days."),
    (403, "NOT_AUTHORIZED", "PERMISSION_DENIED", GatewayNotConfigured,
     "PayPal does not allow this app to refund (Not allowed here.); nothing was refunded."),
    (429, "RATE_LIMIT_REACHED", None, GatewayDeclined,
     "PayPal is limiting requests right now; nothing was refunded. Try again in a minute."),
])
def test_paypal_errors_become_ours(paypal_fake, http_status, name, issue, error, message):
    capture = paypal_fake.add_capture("50.00")
    paypal_fake.fail(http_status, name, issue=issue, description="Not allowed here.")

    with pytest.raises(error) as caught:
        refund(paypal(paypal_fake), capture, 1000)

    assert type(caught.value) is error and caught.value.message == message
    assert caught.value.code == (issue or name)


def test_server_error_is_retried_then_unavailable(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    paypal_fake.fail(500, "INTERNAL_SERVER_ERROR", times=3)

    with pytest.raises(GatewayUnavailable, match=r"^PayPal failed \(HTTP 500") as caught:
        refund(paypal(paypal_fake, max_retries=2), capture, 1000, key="refund:5")

    assert caught.value.outcome_unknown
    assert [call.headers["PayPal-Request-Id"] for call in paypal_fake.refund_calls] == [
        "refund:5"] * 3
    assert paypal_fake.refunded(capture) == "0.00"


def test_unavailable_once_then_refunded(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    paypal_fake.fail(503, "SERVICE_UNAVAILABLE", headers={"Retry-After": "0"})

    result = refund(paypal(paypal_fake, max_retries=2), capture, 1000)

    assert result.status == "succeeded" and len(paypal_fake.refund_calls) == 2
    assert paypal_fake.refunded(capture) == "10.00"


def test_timeout_then_safe_retry(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    gateway = paypal(paypal_fake, timeout=10, max_retries=2)
    paypal_fake.delay = 5
    started = time.monotonic()

    with pytest.raises(GatewayUnavailable, match=r"^PayPal did not answer within 10 s, so we "
                                                 r"cannot tell whether the refund went through"):
        refund(gateway, capture, 1000, key="refund:3")

    assert time.monotonic() - started < 3 and len(paypal_fake.refund_calls) == 1
    paypal_fake.delay = 0
    paypal_fake.release()
    refund(gateway, capture, 1000, key="refund:3")
    assert paypal_fake.refunded(capture) == "10.00"


@pytest.mark.parametrize(("paypal_status", "status", "failure_message"), [
    ("PENDING", "pending", None),
    ("FAILED", "failed", "PayPal could not complete the refund (echeck)."),
])
def test_refund_status(paypal_fake, paypal_status, status, failure_message):
    capture = paypal_fake.add_capture("50.00")
    paypal_fake.refund_status = paypal_status

    result = refund(paypal(paypal_fake), capture, 1000)

    assert (result.status, result.failure_message) == (status, failure_message)


def test_connection_refused():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    gateway = PayPalGateway(CLIENT_ID, CLIENT_SECRET, f"http://127.0.0.1:{port}",
                            max_retries=0)

    with pytest.raises(GatewayUnavailable, match=r"^Could not reach PayPal .* before the "
                                                 r"refund was sent; nothing was refunded"):
        refund(gateway, "0CAPTURE", 1000)


def test_refund_status_asks_for_the_refund_and_maps_its_status(paypal_fake):
    capture = paypal_fake.add_capture("50.00")
    paypal_fake.refund_status = "PENDING"
    gateway = paypal(paypal_fake)
    made = refund(gateway, capture, 1000)
    assert made.status == "pending"
    paypal_fake.settle(made.reference, "COMPLETED")

    result = gateway.refund_status(made.reference)

    [call] = paypal_fake.lookup_calls
    assert call.path == f"/v2/payments/refunds/{made.reference}"
    assert call.headers["Authorization"].startswith("Bearer ")
    assert (result.reference, result.status, result.failure_message) == (
        made.reference, "succeeded", None)
    paypal_fake.settle(made.reference, "FAILED")
    assert gateway.refund_status(made.reference).failure_message == (
        "PayPal could not complete the refund (echeck).")
    assert paypal_fake.refunded(capture) == "0.00"


def test_refund_status_of_an_unknown_refund(paypal_fake):
    with pytest.raises(GatewayDeclined, match=r"^PayPal has no refund 0MISSING\.$") as caught:
        paypal(paypal_fake).refund_status("0MISSING")
    assert caught.value.code == "INVALID_RESOURCE_ID"


def test_refund_status_when_paypal_fails(paypal_fake):
    paypal_fake.fail(503, "SERVICE_UNAVAILABLE")

    with pytest.raises(GatewayUnavailable, match=r"^PayPal failed \(HTTP 503"):
        paypal(paypal_fake).refund_status("0SOMEREFUND")
