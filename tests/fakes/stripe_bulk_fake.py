"""A Stripe refunds API on loopback for bulk jobs: honours Idempotency-Key as Stripe does
(a repeated key replays the first answer, nothing new happens), refuses chosen payments,
answers 429 when told to, can be slow; counts what really happened per payment."""
import json
import secrets
import threading
import time
from collections import Counter

import pytest
from werkzeug import Response

from tests.fakes.loopback import fresh_handlers, loopback_server

API_KEY = "sk_test_memberdesk_bulk"


class StripeBulkFake:
    def __init__(self, server, delay=0.0):
        self.url = f"http://127.0.0.1:{server.port}"
        self.delay = delay
        self.refused = {}  # payment ref -> message
        self.rate_limited = 0  # answer this many next requests with 429
        self.refunds = Counter()  # payment ref -> refunds really made
        self.requests = Counter()  # payment ref -> HTTP requests received
        self._replies = {}  # idempotency key -> (status, body)
        self._lock = threading.Lock()
        self.made = []  # the refund objects made, oldest first (with their metadata)
        server.expect_request("/v1/refunds", method="POST").respond_with_handler(self._handle)
        server.expect_request("/v1/refunds", method="GET").respond_with_handler(self._list)

    def _list(self, request):
        """GET /v1/refunds?payment_intent=…: the payment's refunds, newest first."""
        ref = request.args.get("payment_intent") or request.args.get("charge")
        with self._lock:
            rows = [r for r in reversed(self.made) if r["payment_intent"] == ref]
        return _json({"object": "list", "url": "/v1/refunds", "data": rows,
                      "has_more": False}, 200)

    def _handle(self, request):
        if self.delay:
            time.sleep(self.delay)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _json({"error": {"type": "invalid_request_error",
                                    "message": "Invalid API Key provided"}}, 401)
        ref = request.form.get("payment_intent") or request.form.get("charge")
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.requests[ref] += 1
            if self.rate_limited > 0:
                self.rate_limited -= 1
                return _json({"error": {"type": "invalid_request_error", "code": "rate_limit",
                                        "message": "Too many requests hit the API too quickly."}},
                             429)
            if key in self._replies:
                status, body = self._replies[key]
                return _json(body, status, replayed=True)
            status, body = self._answer(ref, request.form)
            self._replies[key] = (status, body)
            return _json(body, status)

    def _answer(self, ref, form):
        if ref in self.refused:
            return 400, {"error": {"type": "invalid_request_error", "code": "charge_disputed",
                                   "message": self.refused[ref]}}
        self.refunds[ref] += 1
        refund = {"id": "re_" + secrets.token_hex(10), "object": "refund",
                  "amount": int(form.get("amount", 0)), "currency": "usd",
                  "payment_intent": ref, "status": "succeeded",
                  "balance_transaction": "txn_" + secrets.token_hex(10),
                  "created": int(time.time()), "reason": form.get("reason"),
                  "metadata": {k[len("metadata["):-1]: v for k, v in form.items()
                               if k.startswith("metadata[")}}
        self.made.append(refund)
        return 200, refund


def _json(body, status, replayed=False):
    headers = {"Request-Id": "req_" + secrets.token_hex(8)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(json.dumps(body), status=status, content_type="application/json",
                    headers=headers)


@pytest.fixture(scope="session")
def _stripe_bulk_server():
    with loopback_server() as server:
        yield server


@pytest.fixture
def stripe_bulk(_stripe_bulk_server):
    with fresh_handlers(_stripe_bulk_server) as server:
        yield StripeBulkFake(server)
