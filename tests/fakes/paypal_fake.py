"""An in-test PayPal REST API on loopback: OAuth2 tokens, capture refunds and refund
look-ups, with state (subscriptions: the sandbox, tests/gateway_sandbox.py)."""
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

import pytest
from werkzeug import Response
from werkzeug.datastructures import Headers

from tests.fakes.faults import mark_lost
from tests.fakes.loopback import fresh_handlers, loopback_server

CLIENT_ID = "memberdesk-client-id"
CLIENT_SECRET = "memberdesk-client-secret"
NO_DECIMALS = ("HUF", "JPY", "TWD")
_MESSAGES = {
    "UNPROCESSABLE_ENTITY": "The requested action could not be performed, semantically "
                            "incorrect, or failed business validation.",
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "INTERNAL_SERVER_ERROR": "An internal server error occurred.",
    "SERVICE_UNAVAILABLE": "Service Unavailable.",
    "RATE_LIMIT_REACHED": "Too many requests. Blocked due to rate limiting.",
    "NOT_AUTHORIZED": "Authorization failed due to insufficient permissions.",
}


@dataclass(frozen=True)
class PayPalCall:
    """One request as the fake received it: headers (case-insensitive) and parsed body."""

    path: str
    headers: Headers
    body: dict
    method: str = "POST"


@dataclass
class Capture:
    """A captured payment that can be refunded, fully or in parts."""

    id: str
    amount: Decimal
    currency: str
    refunded: Decimal = Decimal(0)


class PayPalFake:
    """Issues tokens to CLIENT_ID/CLIENT_SECRET and refunds captures like PayPal does.

    Refunds are idempotent on PayPal-Request-Id; over-refunds and refunds of a fully
    refunded capture get PayPal's 422 answers. `fail`, `delay` and `refund_status` script
    the other cases; `calls` records every request.
    """

    def __init__(self, server):
        self.url = f"http://127.0.0.1:{server.port}"
        self.token_lifetime = 32400
        self.refund_status = "COMPLETED"
        self.delay = 0  # set: refunds are made, their answers lost (a timeout) until release()
        self.calls = []
        self._captures, self._tokens, self._replies, self._failures = {}, set(), {}, []
        self._refunds = {}  # refund id -> (capture, refund JSON as PayPal stores it now)
        self._lock = threading.Lock()
        self._released = threading.Event()
        server.expect_request("/v1/oauth2/token", method="POST").respond_with_handler(
            self._token)
        server.expect_request(re.compile(r"^/v2/payments/captures/[^/]+/refund$"),
                              method="POST").respond_with_handler(self._refund)
        server.expect_request(re.compile(r"^/v2/payments/refunds/[^/]+$"),
                              method="GET").respond_with_handler(self._get_refund)
        server.expect_request("/v1/reporting/transactions", method="GET") \
            .respond_with_handler(self.handler(self._search))

    def handler(self, answer):
        """A request handler: record the call, check the token, answer(request, body) ->
        (HTTP status, JSON body or None for 204)."""
        def handle(request):
            body = request.get_json(silent=True)
            self._record(request, body)
            if not self._token_ok(request):
                return _bad_token()
            status, data = answer(request, body)
            if data is None:
                return mark_lost(Response(status=status, headers={
                    "Paypal-Debug-Id": secrets.token_hex(7)}), request)
            return mark_lost(_json(data, status), request)
        return handle

    def error(self, name, issue=None, description=None):
        return _error(name, issue, description)

    def _token_ok(self, request):
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self._tokens

    def add_capture(self, value, currency="EUR"):
        """A new capture of `value` (a decimal string, e.g. "50.00"); returns its id."""
        capture = Capture(_id(), Decimal(value), currency)
        self._captures[capture.id] = capture
        return capture.id

    def refunded(self, capture_id):
        """How much of the capture is refunded so far, as PayPal would write it."""
        capture = self._captures[capture_id]
        return _value(capture.refunded, capture.currency)

    def revoke_tokens(self):
        """Make PayPal forget every token it issued (as when one expires early)."""
        self._tokens.clear()

    def fail(self, http_status, name, *, issue=None, description=None, times=1,
             headers=None):
        """Answer the next `times` refund (or refund look-up) calls with this PayPal error."""
        self._failures.extend([(_error(name, issue, description), http_status,
                                headers or {})] * times)

    def release(self):
        """Let delayed answers go now."""
        self._released.set()

    def settle(self, refund_id, status="COMPLETED"):
        """Change a stored refund's status, as PayPal does when a pending refund finishes."""
        with self._lock:
            capture, refund = self._refunds[refund_id]
            value = Decimal(refund["amount"]["value"])
            counted = refund["status"] != "FAILED"
            if counted and status in ("FAILED", "CANCELLED"):
                capture.refunded -= value
            elif not counted and status not in ("FAILED", "CANCELLED"):
                capture.refunded += value
            refund["status"], refund["update_time"] = status, _now()
            if status == "COMPLETED":
                refund.pop("status_details", None)
            elif status in ("FAILED", "CANCELLED"):
                refund["status_details"] = {"reason": "ECHECK"}

    @property
    def token_calls(self):
        return [call for call in self.calls if call.path == "/v1/oauth2/token"]

    @property
    def lookup_calls(self):
        return [call for call in self.calls if call.path.startswith("/v2/payments/refunds/")]

    @property
    def refund_calls(self):
        return [call for call in self.calls if call.path.endswith("/refund")]

    def _record(self, request, body):
        self.calls.append(PayPalCall(request.path, Headers(request.headers), body,
                                     request.method))

    def _token(self, request):
        self._record(request, request.form.to_dict())
        auth = request.authorization
        if not auth or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return _json({"error": "invalid_client",
                          "error_description": "Client Authentication failed"}, 401)
        if request.form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type",
                          "error_description": "Grant Type is not supported"}, 400)
        token = "A21AA" + secrets.token_urlsafe(32)
        self._tokens.add(token)
        return _json({"scope": "https://uri.paypal.com/services/payments/refund",
                      "access_token": token, "token_type": "Bearer",
                      "app_id": "APP-80W284485P519543T", "expires_in": self.token_lifetime,
                      "nonce": _now() + secrets.token_urlsafe(16)}, 200)

    def _refund(self, request):
        body = request.get_json(silent=True)
        self._record(request, body)
        if not self._token_ok(request):
            return _bad_token()
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure:
            return _json(*failure)
        request_id = request.headers.get("PayPal-Request-Id")
        with self._lock:
            if request_id not in self._replies:
                self._replies[request_id] = self._apply_refund(request, body)
            status, refund = self._replies[request_id]
        if status == 201 and request.headers.get("Prefer") != "return=representation":
            refund = {key: refund[key] for key in ("id", "status", "links")}
        if self.delay and not self._released.is_set():  # PayPal acted; its answer is lost
            return mark_lost(_json(refund, status))
        return _json(refund, status)

    def _get_refund(self, request):
        self._record(request, None)
        if not self._token_ok(request):
            return _bad_token()
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            stored = self._refunds.get(request.path.rsplit("/", 1)[-1])
            refund = json.loads(json.dumps(stored[1])) if stored else None
        if failure:
            return _json(*failure)
        if refund is None:
            return _json(_error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                                "Specified resource ID does not exist."), 404)
        return _json(refund, 200)

    def _apply_refund(self, request, body):
        """(http status, JSON) of a refund request, changing the capture if it succeeds."""
        capture = self._captures.get(request.path.split("/")[-2])
        if capture is None or not isinstance(body, dict):
            return 404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                               "Specified resource ID does not exist.")
        left = capture.amount - capture.refunded
        if left == 0:
            return 422, _error("UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED",
                               "The capture has already been fully refunded")
        amount = body.get("amount") or {"value": _value(left, capture.currency),
                                         "currency_code": capture.currency}
        if amount.get("currency_code") != capture.currency:
            return 422, _error("UNPROCESSABLE_ENTITY", "REFUND_CAPTURE_CURRENCY_MISMATCH",
                               "Refund must be in the same currency as the capture.")
        try:
            value = Decimal(amount["value"])
        except (KeyError, TypeError, InvalidOperation):
            value = Decimal("NaN")
        if not value.is_finite() or -value.as_tuple().exponent > _decimals(capture.currency):
            return 422, _error("UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION",
                               "If the currency supports decimals, only two decimal place "
                               "precision is supported.")
        if value > left:
            return 422, _error("UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED",
                               "The refund amount must be less than or equal to the capture "
                               "amount that has not yet been refunded.")
        if self.refund_status != "FAILED":
            capture.refunded += value
        return 201, self._refund_json(capture, amount, body)

    def _search(self, request, body):
        """The transaction search, refunds only (event code T1107), with custom_field."""
        start = request.args["start_date"]
        end = request.args["end_date"]
        with self._lock:
            rows = [{"transaction_info": {
                "transaction_id": refund["id"], "transaction_event_code": "T1107",
                "paypal_reference_id": capture.id, "paypal_reference_id_type": "TXN",
                "transaction_initiation_date": refund["create_time"],
                "transaction_amount": dict(refund["amount"],
                                           value="-" + refund["amount"]["value"]),
                "custom_field": refund.get("custom_id")}}
                for capture, refund in self._refunds.values()
                if start <= refund["create_time"] <= end]
        return 200, {"transaction_details": rows, "total_items": len(rows), "total_pages": 1,
                     "page": 1, "start_date": start, "end_date": end}

    def forget_request_ids(self):
        """As if PayPal no longer kept the PayPal-Request-Ids it has seen."""
        with self._lock:
            self._replies.clear()

    def refund_object(self, refund_id):
        """The refund as PayPal stores it now (what a webhook or a look-up carries)."""
        with self._lock:
            return json.loads(json.dumps(self._refunds[refund_id][1]))

    def refunded_total(self, capture_id):
        """What PayPal has refunded of a capture, in minor units."""
        capture = self._captures[capture_id]
        return int(capture.refunded.scaleb(_decimals(capture.currency)))

    def _refund_json(self, capture, amount, body):
        note = body.get("note_to_payer")
        refund_id = _id()
        refund = {
            "id": refund_id, "status": self.refund_status, "amount": amount,
            "seller_payable_breakdown": {
                "gross_amount": amount,
                "paypal_fee": {"value": _value(0, capture.currency),
                               "currency_code": capture.currency},
                "net_amount": amount,
                "total_refunded_amount": {"value": _value(capture.refunded, capture.currency),
                                          "currency_code": capture.currency}},
            "create_time": _now(), "update_time": _now(),
            "links": [{"href": f"{self.url}/v2/payments/refunds/{refund_id}", "rel": "self",
                       "method": "GET"},
                      {"href": f"{self.url}/v2/payments/captures/{capture.id}", "rel": "up",
                       "method": "GET"}],
        }
        if note:
            refund["note_to_payer"] = note
        for field in ("custom_id", "invoice_id"):  # PayPal keeps and returns both
            if body.get(field):
                refund[field] = body[field]
        if self.refund_status in ("PENDING", "FAILED"):
            refund["status_details"] = {"reason": "ECHECK"}
        self._refunds[refund_id] = (capture, refund)
        return refund


def _bad_token():
    return _json({"error": "invalid_token",
                  "error_description": "Access Token not found in cache"}, 401)


def _id():
    return secrets.token_hex(9).upper()[:17]


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decimals(currency):
    return 0 if currency in NO_DECIMALS else 2


def _value(amount, currency):
    return f"{Decimal(amount):.{_decimals(currency)}f}"


def _error(name, issue=None, description=None):
    error = {"name": name, "message": _MESSAGES.get(name, name),
             "debug_id": secrets.token_hex(7)}
    if issue:
        error["details"] = [{"issue": issue, "description": description}]
        error["links"] = [{"href": "https://developer.paypal.com/docs/api/payments/v2/"
                                   f"#error-{issue}",
                           "rel": "information_link", "method": "GET"}]
    return error


def _json(body, status, headers=None):
    return Response(json.dumps(body), status=status, content_type="application/json",
                    headers={"Paypal-Debug-Id": secrets.token_hex(7), **(headers or {})})


@pytest.fixture(scope="session")
def _paypal_fake_server():
    with loopback_server() as server:
        yield server


@pytest.fixture
def paypal_fake(_paypal_fake_server):
    """A fake PayPal API for one test; add captures with paypal_fake.add_capture(...)."""
    with fresh_handlers(_paypal_fake_server) as server:
        fake = PayPalFake(server)
        try:
            yield fake
        finally:
            fake.release()
