"""An in-test Stripe API on loopback answering in API 2026-10-28 shapes: POST /v1/refunds,
GET /v1/refunds/<id> (subscriptions: the sandbox, tests/gateway_sandbox.py)."""
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass

import pytest
from werkzeug import Response
from werkzeug.datastructures import Headers

from tests.fakes.faults import mark_lost
from tests.fakes.loopback import fresh_handlers, loopback_server

API_VERSION = "2026-10-28.endive"
API_KEY = "sk_test_memberdesk_fake"


@dataclass(frozen=True)
class StripeCall:
    """One request as the fake received it: headers (case-insensitive) and form fields."""

    path: str
    headers: Headers
    form: dict
    method: str = "POST"


class StripeFake:
    """Answers refunds with success unless told otherwise; `calls` records every request."""

    def __init__(self, server, currency="eur", payment_amount=5000):
        self.url = f"http://127.0.0.1:{server.port}"
        self.currency = currency
        self.payment_amount = payment_amount
        self.calls = []
        self.refunds = {}  # id -> the refund object as Stripe stores it now
        self._by_key, self._key_lock = {}, threading.Lock()  # Idempotency-Key -> refund id
        self._answer = self._refund
        self._refund_status = ("succeeded", None)
        self._released = threading.Event()
        server.expect_request("/v1/refunds", method="POST").respond_with_handler(self._handle)
        server.expect_request(re.compile(r"^/v1/refunds/[^/]+$"),
                              method="GET").respond_with_handler(self._handle)
        server.expect_request("/v1/refunds", method="GET").respond_with_handler(
            self.handler(self._list_refunds))
        self.clock = None  # a fixed Unix time for "now", or None for the real time

    def now(self):
        return self.clock if self.clock is not None else int(time.time())

    def new_id(self, prefix):
        return _id(prefix)

    def handler(self, answer):
        """A request handler: record the call, check the API key, answer(request) ->
        (HTTP status, JSON body)."""
        def handle(request):
            self._record(request)
            if request.headers.get("Authorization") != f"Bearer {API_KEY}":
                return _bad_key()
            status, body = answer(request)
            return mark_lost(_json_response(body, status), request)
        return handle

    def _record(self, request):
        self.calls.append(StripeCall(request.path, Headers(request.headers),
                                     request.form.to_dict(), request.method))

    def refund_status(self, status="succeeded", failure_reason=None):
        """Answer refunds at once, with this status (after `fail` or `hang` too)."""
        self._refund_status = (status, failure_reason)
        self._answer = self._refund

    def fail(self, http_status, error_type, code=None, message="", param=None):
        """Answer every refund with a Stripe error object."""
        error = {"type": error_type, "code": code, "message": message, "param": param,
                 "request_log_url": f"https://dashboard.stripe.com/test/logs/{_id('req_')}"}
        if code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        self._answer = lambda request: _json_response({"error": error}, http_status)

    def hang(self, seconds=None):
        """Make refunds, but lose the answers (the client times out at once) until
        release()."""
        self._released.clear()
        self._answer = lambda request: self._refund(request) if self._released.is_set() \
            else mark_lost(self._refund(request))

    def release(self):
        """Let hanging answers go now."""
        self._released.set()

    def settle(self, refund_id, status="succeeded", failure_reason=None):
        """Change a stored refund's status, as Stripe does when a pending refund finishes."""
        refund = self.refunds[refund_id]
        refund["status"] = status
        refund.pop("pending_reason", None)
        if status == "succeeded" and not refund["balance_transaction"]:
            refund["balance_transaction"] = _id("txn_")
        if failure_reason:
            refund["failure_reason"] = failure_reason
            refund["failure_balance_transaction"] = _id("txn_")

    def _handle(self, request):
        self._record(request)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _bad_key()
        if request.method == "GET":
            return self._retrieve(request)
        return self._answer(request)

    def _retrieve(self, request):
        refund_id = request.path.rsplit("/", 1)[-1]
        if refund_id not in self.refunds:
            return _json_response({"error": {
                "type": "invalid_request_error", "code": "resource_missing",
                "message": f"No such refund: '{refund_id}'", "param": "id"}}, 404)
        return _json_response(self.refunds[refund_id], 200)

    def forget_keys(self):
        """Let Stripe's 24-hour idempotency window pass: a known key makes a new refund."""
        with self._key_lock:
            self._by_key.clear()

    def _list_refunds(self, request):
        """GET /v1/refunds?payment_intent=…|charge=…&created[gte]=…, newest first."""
        args = request.args
        rows = [r for r in reversed(list(self.refunds.values()))
                if (not args.get("payment_intent") or r["payment_intent"] == args["payment_intent"])
                and (not args.get("charge") or r["charge"] == args["charge"])
                and r["created"] >= int(args.get("created[gte]", 0))]
        if args.get("starting_after"):
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(args["starting_after"]) + 1:]
        limit = int(args.get("limit", 10))
        return 200, {"object": "list", "url": "/v1/refunds", "data": rows[:limit],
                     "has_more": len(rows) > limit}

    def refunded_total(self, payment_intent):
        """What Stripe has refunded of a payment: its succeeded refunds, each counted once."""
        return sum(r["amount"] for r in self.refunds.values()
                   if r["payment_intent"] == payment_intent and r["status"] == "succeeded")

    def _refund(self, request):
        """Stripe's idempotency: the same Idempotency-Key gets the same refund, made once."""
        key = request.headers.get("Idempotency-Key")
        with self._key_lock:
            if key and key in self._by_key:
                return _json_response(self.refunds[self._by_key[key]], 200)
            response = self._new_refund(request)
            if key and response.status_code == 200:
                self._by_key[key] = json.loads(response.get_data())["id"]
            return response

    def _new_refund(self, request):
        form = request.form
        status, failure_reason = self._refund_status
        refund = {
            "id": _id("re_"), "object": "refund",
            "amount": int(form.get("amount", self.payment_amount)),
            "balance_transaction": _id("txn_") if status == "succeeded" else None,
            "charge": form.get("charge") or _id("ch_"),
            "created": int(time.time()), "currency": self.currency,
            "destination_details": {"type": "card", "card": {
                "reference_status": "pending", "reference_type": "acquirer_reference_number",
                "type": "refund"}},
            "metadata": {key[len("metadata["):-1]: value for key, value in form.items()
                         if key.startswith("metadata[")},
            "payment_intent": form.get("payment_intent"),
            "reason": form.get("reason"), "receipt_number": None,
            "source_transfer_reversal": None, "status": status, "transfer_reversal": None,
        }
        if status == "pending":
            refund["pending_reason"] = "processing"
        if failure_reason:
            refund["failure_reason"] = failure_reason
            refund["failure_balance_transaction"] = _id("txn_")
        self.refunds[refund["id"]] = refund
        return _json_response(refund, 200)


def _bad_key():
    return _json_response({"error": {"type": "invalid_request_error",
                                     "message": "Invalid API Key provided: sk_test_****"}}, 401)


def _id(prefix):
    return prefix + secrets.token_hex(12)


def _json_response(body, status):
    return Response(json.dumps(body), status=status, content_type="application/json",
                    headers={"Request-Id": _id("req_"), "Stripe-Version": API_VERSION})


@pytest.fixture(scope="session")
def _stripe_fake_server():
    with loopback_server() as server:
        yield server


@pytest.fixture
def stripe_fake(_stripe_fake_server):
    """A fake Stripe API (key API_KEY) for one test; refunds succeed until told otherwise."""
    with fresh_handlers(_stripe_fake_server) as server:
        fake = StripeFake(server)
        try:
            yield fake
        finally:
            fake.release()
