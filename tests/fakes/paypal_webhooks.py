"""A PayPal fake for webhooks and the sync, on loopback: OAuth2 tokens, the
verify-webhook-signature call, and GETs of orders, captures, subscriptions, plans and the
transaction search, in today's v1/v2 shapes. Deliveries are "signed" by the fake itself
(sign()), and only those verify, as only PayPal's own deliveries verify at PayPal."""
import hashlib
import hmac
import json
import re
import secrets
import zlib
from datetime import datetime, timezone

import pytest
from werkzeug import Response

from tests.fakes.loopback import fresh_handlers, loopback_server

CLIENT_ID, CLIENT_SECRET = "pp-hooks-client", "pp-hooks-secret"
WEBHOOK_ID = "8PT597110X687430LKGECATA"
_KEY = b"the private key of PayPal's signing certificate"


def now_text(offset=0):
    return datetime.fromtimestamp(datetime.now(timezone.utc).timestamp() + offset,
                                  timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature(transmission_id, transmission_time, webhook_id, body):
    """PayPal signs "<id>|<time>|<webhook id>|<crc32 of the body>" (here with an HMAC)."""
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"
    return hmac.new(_KEY, message.encode(), hashlib.sha256).hexdigest()


def sign(body, webhook_id=WEBHOOK_ID, transmission_time=None):
    """The headers PayPal sends with a delivery of `body` (bytes) to `webhook_id`."""
    transmission_id, sent = secrets.token_hex(16), transmission_time or now_text()
    return {"PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
            "PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": sent,
            "PAYPAL-TRANSMISSION-SIG": _signature(transmission_id, sent, webhook_id, body)}


def event(event_type, resource, event_id=None, create_time=None):
    return {"id": event_id or f"WH-{secrets.token_hex(8).upper()}", "event_version": "1.0",
            "create_time": create_time or now_text(), "resource_type": event_type.split(".")[1]
            .lower(), "event_type": event_type, "summary": event_type, "resource": resource}


def body(evt):
    return json.dumps(evt, separators=(",", ":")).encode()


def money(value, currency="EUR"):
    return {"currency_code": currency, "value": value}


def capture(capture_id, value="49.00", currency="EUR", order_id=None, breakdown=None,
            create_time="2026-01-02T10:00:00Z"):
    return {"id": capture_id, "status": "COMPLETED", "amount": money(value, currency),
            "final_capture": True, "create_time": create_time, "update_time": create_time,
            "seller_receivable_breakdown": breakdown or {
                "gross_amount": money(value, currency), "paypal_fee": money("1.95", currency),
                "net_amount": money("47.05", currency)},
            "supplementary_data": {"related_ids": {"order_id": order_id or "5O190127TN364715T"}},
            "links": []}


def converted(gross="49.00", fee="2.05", net="46.95", currency="EUR", paid_in="USD",
              receivable="50.40", rate="1.07350"):
    return {"gross_amount": money(gross, currency), "paypal_fee": money(fee, currency),
            "net_amount": money(net, currency), "receivable_amount": money(receivable, paid_in),
            "exchange_rate": {"source_currency": currency, "target_currency": paid_in,
                              "value": rate}}


def order(order_id, payer_id="QYR5Z8XDVJNXQ", email="grace@example.com"):
    return {"id": order_id, "status": "COMPLETED", "intent": "CAPTURE",
            "payer": {"payer_id": payer_id, "email_address": email,
                      "name": {"given_name": "Grace", "surname": "Hopper"},
                      "address": {"country_code": "US"}}}


def refund(refund_id, capture_id, value="20.00", currency="EUR"):
    return {"id": refund_id, "status": "COMPLETED", "amount": money(value, currency),
            "create_time": "2026-01-03T10:00:00Z", "update_time": "2026-01-03T10:00:00Z",
            "links": [{"rel": "up", "method": "GET",
                       "href": f"https://api.paypal.com/v2/payments/captures/{capture_id}"}]}


def subscription(sub_id, status="ACTIVE", plan_id="P-PRO", payer_id="QYR5Z8XDVJNXQ",
                 email="grace@example.com"):
    return {"id": sub_id, "status": status, "plan_id": plan_id,
            "start_time": "2026-01-01T00:00:00Z", "create_time": "2026-01-01T00:00:00Z",
            "update_time": "2026-01-01T00:00:00Z",
            "subscriber": {"payer_id": payer_id, "email_address": email,
                           "name": {"given_name": "Grace", "surname": "Hopper"}},
            "billing_info": {"next_billing_time": "2026-02-01T10:00:00Z",
                             "failed_payments_count": 0}}


def plan(plan_id="P-PRO", value="19.00", currency="USD"):
    return {"id": plan_id, "name": "Pro via PayPal", "status": "ACTIVE", "billing_cycles": [
        {"tenure_type": "REGULAR", "sequence": 1, "total_cycles": 0,
         "frequency": {"interval_unit": "MONTH", "interval_count": 1},
         "pricing_scheme": {"fixed_price": money(value, currency)}}]}


class PayPalHooks:
    """Answers like PayPal; put resources in `objects` by path, e.g.
    objects["/v2/checkout/orders/ID"] = order(...); `transactions` feeds the search."""

    def __init__(self, server):
        self.url = f"http://127.0.0.1:{server.port}"
        self.objects, self.transactions, self.verify_calls = {}, [], []
        self.verify_failures = 0
        self._tokens = set()
        server.expect_request("/v1/oauth2/token", method="POST").respond_with_handler(
            self._token)
        server.expect_request("/v1/notifications/verify-webhook-signature", method="POST") \
            .respond_with_handler(self._verify)
        server.expect_request("/v1/reporting/transactions", method="GET") \
            .respond_with_handler(self._search)
        server.expect_request(re.compile(r"^/v[12]/.+"), method="GET") \
            .respond_with_handler(self._get)

    def config(self):
        return dict(PAYPAL_CLIENT_ID=CLIENT_ID, PAYPAL_CLIENT_SECRET=CLIENT_SECRET,
                    PAYPAL_API_BASE=self.url, PAYPAL_WEBHOOK_ID=WEBHOOK_ID, PAYPAL_MAX_RETRIES=0,
                    PAYPAL_TIMEOUT=2)

    def _authorized(self, request):
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self._tokens

    def _token(self, request):
        auth = request.authorization
        if not auth or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return _json({"error": "invalid_client"}, 401)
        token = "A21AA" + secrets.token_urlsafe(24)
        self._tokens.add(token)
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": 32400}, 200)

    def _verify(self, request):
        if not self._authorized(request):
            return _json({"error": "invalid_token"}, 401)
        if self.verify_failures:
            self.verify_failures -= 1
            return _json({"name": "INTERNAL_SERVER_ERROR"}, 500)
        data = request.get_json()
        self.verify_calls.append(data)
        required = ("auth_algo", "cert_url", "transmission_id", "transmission_sig",
                    "transmission_time", "webhook_id", "webhook_event")
        if any(not data.get(k) for k in required):
            return _json({"name": "VALIDATION_ERROR"}, 400)
        expected = _signature(data["transmission_id"], data["transmission_time"],
                              data["webhook_id"], body(data["webhook_event"]))
        ok = hmac.compare_digest(expected, data["transmission_sig"]) and \
            data["webhook_id"] == WEBHOOK_ID
        return _json({"verification_status": "SUCCESS" if ok else "FAILURE"}, 200)

    def _get(self, request):
        if not self._authorized(request):
            return _json({"error": "invalid_token"}, 401)
        obj = self.objects.get(request.path)
        if obj is None:
            return _json({"name": "RESOURCE_NOT_FOUND", "message": "The specified resource "
                          "does not exist."}, 404)
        return _json(obj, 200)

    def _search(self, request):
        if not self._authorized(request):
            return _json({"error": "invalid_token"}, 401)
        start, end = request.args["start_date"], request.args["end_date"]
        rows = [t for t in self.transactions
                if start <= t["transaction_info"]["transaction_initiation_date"] < end]
        size, page = int(request.args.get("page_size", 100)), int(request.args.get("page", 1))
        pages = max(1, -(-len(rows) // size))
        return _json({"transaction_details": rows[(page - 1) * size:page * size],
                      "page": page, "total_pages": pages, "total_items": len(rows)}, 200)


def _json(data, status):
    return Response(json.dumps(data), status=status, content_type="application/json")


@pytest.fixture(scope="session")
def _paypal_hooks_server():
    with loopback_server() as server:
        yield server


@pytest.fixture
def paypal_hooks(_paypal_hooks_server):
    with fresh_handlers(_paypal_hooks_server) as server:
        yield PayPalHooks(server)
