"""Stripe events for the webhook tests (2026-10-28), signed with Stripe's real scheme (the
sandbox's signing helper), and the objects they carry; the Stripe reads the app makes are
answered by the test's sandbox (tests/gateway_sandbox.py: stripe_reads)."""
import json
import time
from itertools import count

from sandbox.core import STRIPE_API_KEY as API_KEY  # noqa: F401 - the webhook tests' key
from sandbox.signing import stripe_signature_header

SECRET = "whsec_memberdesk_test_secret"
_ids = count(1)


def new_id(prefix):
    return f"{prefix}_{next(_ids):014d}"


def sign(payload, secret=SECRET, timestamp=None):
    """The Stripe-Signature header Stripe would send for this body."""
    return stripe_signature_header(payload, secret, timestamp)


def event(type_, obj, created=None, event_id=None):
    return {"id": event_id or new_id("evt"), "object": "event", "api_version": "2026-10-28",
            "created": int(created or time.time()), "type": type_, "livemode": False,
            "pending_webhooks": 1, "data": {"object": obj}}


def body(evt):
    return json.dumps(evt, separators=(",", ":"))


def balance_transaction(amount, currency="usd", fee=0, rate=None, source=None):
    return {"id": new_id("txn"), "object": "balance_transaction", "amount": amount,
            "currency": currency, "exchange_rate": rate, "fee": fee, "net": amount - fee,
            "source": source, "status": "available", "type": "charge"}


def customer(cid=None, email="ada@example.com", name="Ada Lovelace", country="GB"):
    return {"id": cid or new_id("cus"), "object": "customer", "email": email, "name": name,
            "address": {"country": country, "city": None, "line1": None}, "created": 1767225600}


def charge(cust_id, amount=4900, currency="eur", bt=None, created=1767312000, pi=None,
           status="succeeded", email="ada@example.com", name="Ada Lovelace"):
    return {"id": new_id("ch"), "object": "charge", "amount": amount, "currency": currency,
            "amount_refunded": 0, "balance_transaction": bt, "created": created,
            "customer": cust_id, "description": "Course purchase", "payment_intent":
                pi or new_id("pi"), "status": status, "paid": status == "succeeded",
            "refunded": False, "receipt_email": None,
            "billing_details": {"email": email, "name": name, "address": {"country": "DE"}}}


def refund(ch, amount, status="succeeded", bt=None, created=1767398400, refund_id=None):
    return {"id": refund_id or new_id("re"), "object": "refund", "amount": amount,
            "currency": ch["currency"], "charge": ch["id"], "payment_intent": ch["payment_intent"],
            "status": status, "balance_transaction": bt, "created": created,
            "reason": "requested_by_customer", "failure_reason": None}


def dispute(ch, status="needs_response", bts=(), created=1767484800, dispute_id=None,
            amount=None):
    return {"id": dispute_id or new_id("dp"), "object": "dispute",
            "amount": amount or ch["amount"],
            "currency": ch["currency"], "charge": ch["id"], "payment_intent": ch["payment_intent"],
            "status": status, "reason": "fraudulent", "created": created,
            "balance_transactions": list(bts)}


def subscription(cust_id, sub_id=None, status="active", price_id="price_pro", amount=4900,
                 currency="usd", period_end=1769904000, cancel_at_period_end=False,
                 canceled_at=None):
    return {"id": sub_id or new_id("sub"), "object": "subscription", "customer": cust_id,
            "status": status, "start_date": 1767225600, "created": 1767225600,
            "cancel_at_period_end": cancel_at_period_end, "canceled_at": canceled_at,
            "items": {"object": "list", "data": [{
                "id": new_id("si"), "object": "subscription_item", "quantity": 1,
                "current_period_start": period_end - 2678400, "current_period_end": period_end,
                "price": {"id": price_id, "object": "price", "unit_amount": amount,
                          "currency": currency, "nickname": "Pro Monthly",
                          "recurring": {"interval": "month", "interval_count": 1}}}]}}


def invoice(cust_id, sub_id, pi, amount=4900, currency="usd", paid_at=1767312000):
    return {"id": new_id("in"), "object": "invoice", "customer": cust_id,
            "customer_email": "ada@example.com", "customer_name": "Ada Lovelace",
            "amount_paid": amount, "currency": currency, "status": "paid", "created": paid_at,
            "status_transitions": {"paid_at": paid_at}, "total_taxes": [],
            "parent": {"type": "subscription_details",
                       "subscription_details": {"subscription": sub_id}},
            "payments": {"object": "list", "data": [{
                "object": "invoice_payment", "status": "paid",
                "payment": {"type": "payment_intent", "payment_intent": pi}}]},
            "lines": {"object": "list", "data": [{"description": "1 × Pro Monthly"}]}}
