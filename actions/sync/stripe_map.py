"""Stripe objects (plain dicts, today's API and localstripe's older layout) -> records."""

from actions.gateways.base import METADATA_KEY
from actions.gateways.currencies import from_stripe
from actions.gateways.times import from_unix as ts  # noqa: F401 (used as m.ts)
from actions.gateways.stripe_subscriptions import state_of
from actions.sync.records import (CustomerRecord, DisputeRecord, PaymentRecord, RefundRecord,
                                  Settlement, SubscriptionRecord)

G = "stripe"
_PAYMENT = {"succeeded": "succeeded", "pending": "pending", "failed": "failed"}
_REFUND = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending",
           "failed": "failed", "canceled": "failed"}
_REASONS = ("requested_by_customer", "duplicate", "fraudulent")


def object_id(value):
    """An expandable field: the id, whether Stripe sent the id or the object."""
    return value.get("id") if isinstance(value, dict) else value


def settlement(bt, reader, amount_cents, currency, store_currency, sign=1):
    """The balance transaction's figures (fetched when only its id came), or an estimate when
    there is none: the amount itself when it is in the store currency."""
    if isinstance(bt, str) and reader is not None:
        bt = reader.balance_transaction(bt)
    if isinstance(bt, dict):
        paid_in = bt["currency"].upper()
        return Settlement(sign * from_stripe(bt["amount"], paid_in), paid_in,
                          from_stripe(bt.get("fee") or 0, paid_in))
    if currency == store_currency:
        return Settlement(amount_cents, currency, None, exact=False)
    return None


def customer(obj, updated_at):
    address = obj.get("address") or {}
    return CustomerRecord(G, obj["id"], obj.get("email"), obj.get("name"),
                          (address.get("country") or None), updated_at)


def charge(obj, reader, store):
    details = obj.get("billing_details") or {}
    currency = obj["currency"].upper()
    pi = object_id(obj.get("payment_intent"))
    refs = (pi, obj["id"]) if pi else (obj["id"],)
    cust = CustomerRecord(G, object_id(obj.get("customer")),
                          details.get("email") or obj.get("receipt_email"), details.get("name"))
    status = _PAYMENT.get(obj.get("status"), "pending")
    amount = from_stripe(obj["amount"], currency)
    return PaymentRecord(
        G, refs, cust, amount, currency, status, ts(obj["created"]),
        obj.get("description") or "Stripe payment",
        settlement(obj.get("balance_transaction"), reader, amount, currency, store)
        if status == "succeeded" else None)


def invoice(obj, store):
    """A paid invoice: the payment of a subscription period (None when nothing was paid)."""
    payments = ((obj.get("payments") or {}).get("data") or [])
    pi = next((object_id(p["payment"].get("payment_intent")) for p in payments
               if p.get("payment")), None) or object_id(obj.get("payment_intent"))
    refs = tuple(r for r in (pi, object_id(obj.get("charge"))) if r)
    if not refs or not obj.get("amount_paid"):
        return None
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    sub = object_id(parent.get("subscription")) or object_id(obj.get("subscription"))
    currency = obj["currency"].upper()
    amount = from_stripe(obj["amount_paid"], currency)
    paid_at = (obj.get("status_transitions") or {}).get("paid_at") or obj["created"]
    lines = ((obj.get("lines") or {}).get("data") or [{}])
    tax = from_stripe(sum(int(t.get("amount") or 0) for t in obj.get("total_taxes") or [])
                      or int(obj.get("tax") or 0), currency)
    cust = CustomerRecord(G, object_id(obj.get("customer")), obj.get("customer_email"),
                          obj.get("customer_name"))
    return PaymentRecord(G, refs, cust, amount, currency, "succeeded", ts(paid_at),
                         lines[0].get("description") or "Subscription payment",
                         settlement(None, None, amount, currency, store), sub,
                         tax_cents=tax)


def refund(obj, reader, store):
    currency = obj["currency"].upper()
    status = _REFUND.get(obj.get("status"), "pending")
    amount = from_stripe(obj["amount"], currency)
    settled = None
    if status == "succeeded" and obj.get("balance_transaction"):
        settled = settlement(obj["balance_transaction"], reader, amount, currency, store, -1)
    return RefundRecord(
        G, obj["id"], (object_id(obj.get("payment_intent")), object_id(obj.get("charge"))), amount,
        currency, status, ts(obj.get("created")),
        settled if settled and settled.exact else None,
        obj.get("reason") if obj.get("reason") in _REASONS else "other",
        f"Stripe could not complete the refund ({obj.get('failure_reason') or 'failed'})."
        if status == "failed" else None, (obj.get("metadata") or {}).get(METADATA_KEY))


def dispute(obj, store):
    status = {"won": "won", "lost": "lost"}.get(obj.get("status"), "open")
    withdrawals = [bt for bt in obj.get("balance_transactions") or []
                   if isinstance(bt, dict) and int(bt["amount"]) < 0]
    settled = None
    if withdrawals:
        bt = withdrawals[0]
        paid_in = bt["currency"].upper()
        settled = Settlement(-from_stripe(bt["amount"], paid_in), paid_in,
                             from_stripe(bt.get("fee") or 0, paid_in))
    currency = obj["currency"].upper()
    return DisputeRecord(G, obj["id"], (object_id(obj.get("payment_intent")), object_id(obj.get("charge"))),
                         from_stripe(obj["amount"], currency), currency, status,
                         ts(obj.get("created")), obj.get("reason"), settled)


def subscription(obj, updated_at, store):
    """The adapter's own reading (state_of: status, period, scheduled end, pause) plus the
    price and customer the panel shows."""
    state = state_of(obj)
    items = (obj.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or item.get("plan") or obj.get("plan") or {}
    recurring = price.get("recurring") or price
    currency = (price.get("currency") or store).upper()
    amount = from_stripe(price.get("unit_amount", price.get("amount")) or 0, currency)
    canceled_at = ts(obj.get("canceled_at"))
    ended = None
    if state.status == "canceled":
        ended = ts(obj.get("ended_at")) or canceled_at or updated_at
    return SubscriptionRecord(
        G, obj["id"], CustomerRecord(G, object_id(obj.get("customer"))), state.status,
        price.get("nickname") or price.get("name") or "Stripe subscription",
        int(amount) * int(item.get("quantity") or 1),
        currency, recurring.get("interval") or "month",
        int(recurring.get("interval_count") or 1),
        ts(obj.get("start_date") or obj.get("created")), updated_at, object_id(price.get("id")),
        state.period_end, state.cancel_at_period_end, canceled_at, state.paused,
        state.pause_resumes_at, state.cancel_at, ended)
