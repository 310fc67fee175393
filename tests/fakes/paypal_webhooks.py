"""PayPal webhook events for the tests, in today's v1/v2 shapes, and the resources they
carry; deliveries are signed with the sandbox's signing helper, which only the sandbox's
verify-webhook-signature accepts (as only PayPal's own deliveries verify at PayPal). The
reads the app makes are answered by the test's sandbox (tests/gateway_sandbox.py)."""
import json
import secrets
from datetime import datetime, timezone

from sandbox.core import PAYPAL_WEBHOOK_ID as WEBHOOK_ID
from sandbox.signing import paypal_headers


def now_text(offset=0):
    return datetime.fromtimestamp(datetime.now(timezone.utc).timestamp() + offset,
                                  timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(body, webhook_id=WEBHOOK_ID, transmission_time=None):
    """The headers PayPal sends with a delivery of `body` (bytes) to `webhook_id`."""
    return paypal_headers(body, webhook_id, transmission_time or now_text())


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
