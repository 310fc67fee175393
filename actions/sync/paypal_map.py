"""PayPal resources (v2 captures/refunds, v1 sales, subscriptions, disputes) -> records."""
import calendar
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

from actions.gateways.currencies import from_paypal
from actions.gateways.times import from_iso as when  # noqa: F401 (used as m.when)
from actions.gateways.paypal_subscriptions import status_of
from actions.sync.records import (CustomerRecord, DisputeRecord, PaymentRecord, RefundRecord,
                                  Settlement, SubscriptionRecord)

G = "paypal"
_PAYMENT = {"COMPLETED": "succeeded", "completed": "succeeded", "PENDING": "pending",
            "pending": "pending", "DECLINED": "failed", "FAILED": "failed", "denied": "failed",
            # a payment fetched after its refund: it was paid (the refund is its own record)
            "REFUNDED": "succeeded", "PARTIALLY_REFUNDED": "succeeded",
            "refunded": "succeeded", "partially_refunded": "succeeded"}
_REFUND = {"COMPLETED": "succeeded", "completed": "succeeded", "PENDING": "pending",
           "pending": "pending", "FAILED": "failed", "CANCELLED": "failed", "failed": "failed"}
_UNITS = {"DAY": "day", "WEEK": "week", "MONTH": "month", "YEAR": "year"}


def cents(money):
    """{"value": "49.00", "currency_code": "EUR"} (or v1 {"total", "currency"}) -> (4900, "EUR")."""
    currency = (money.get("currency_code") or money.get("currency")).upper()
    return from_paypal(money.get("value") or money.get("total"), currency), currency


def settlement(breakdown, amount_cents, currency, store):
    """seller_receivable_breakdown -> Settlement (gross, in the currency PayPal paid out).

    Without conversion: gross_amount and paypal_fee. With conversion PayPal gives the net
    `receivable_amount` and the `exchange_rate`: the gross settled is that plus the fee
    converted at the same rate.
    """
    if not breakdown:
        return Settlement(amount_cents, currency, None, exact=False) if currency == store \
            else None
    fee = cents(breakdown["paypal_fee"])[0] if breakdown.get("paypal_fee") else 0
    if breakdown.get("receivable_amount"):
        net, paid_in = cents(breakdown["receivable_amount"])
        rate = Decimal(str((breakdown.get("exchange_rate") or {}).get("value") or 1))
        fee = int((Decimal(fee) * rate * Decimal(10) ** (get_currency_precision(paid_in)
                                                         - get_currency_precision(currency)))
                  .to_integral_value(ROUND_HALF_UP))
        return Settlement(net + fee, paid_in, fee)
    gross, paid_in = cents(breakdown.get("gross_amount") or {"value": "0",
                                                             "currency_code": currency})
    return Settlement(gross or amount_cents, paid_in, fee)


def payer(data, updated_at=None):
    """An order's `payer` or a subscription's `subscriber` -> CustomerRecord."""
    name = data.get("name") or {}
    full = " ".join(filter(None, (name.get("given_name"), name.get("surname")))) \
        or name.get("full_name")
    address = data.get("address") or (data.get("shipping_address") or {}).get("address") or {}
    return CustomerRecord(G, data.get("payer_id"), data.get("email_address"), full or None,
                          address.get("country_code"), updated_at)


def capture(obj, customer, store):
    amount, currency = cents(obj["amount"])
    status = _PAYMENT.get(obj.get("status"), "pending")
    return PaymentRecord(
        G, (obj["id"],), customer, amount, currency, status, when(obj.get("create_time")),
        obj.get("custom_id") or obj.get("invoice_id") or "PayPal payment",
        settlement(obj.get("seller_receivable_breakdown"), amount, currency, store)
        if status == "succeeded" else None)


def sale(obj, customer, store):
    """A v1 sale: a subscription's recurring payment."""
    amount, currency = cents(obj["amount"])
    breakdown = None
    if obj.get("transaction_fee"):
        breakdown = {"gross_amount": {"value": obj["amount"]["total"], "currency_code": currency},
                     "paypal_fee": obj["transaction_fee"]}
        if obj.get("receivable_amount"):
            breakdown.update(receivable_amount=obj["receivable_amount"],
                             exchange_rate={"value": obj.get("exchange_rate")})
    return PaymentRecord(G, (obj["id"],), customer, amount, currency,
                         _PAYMENT.get(obj.get("state"), "pending"), when(obj.get("create_time")),
                         "Subscription payment",
                         settlement(breakdown, amount, currency, store),
                         obj.get("billing_agreement_id"))


def up_link(obj):
    """The capture a v2 refund belongs to (its rel=up link)."""
    for link in obj.get("links") or []:
        if link.get("rel") == "up":
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return None


def refund(obj):
    amount, currency = cents(obj["amount"])
    status = _REFUND.get(obj.get("status") or obj.get("state"), "pending")
    parent = obj.get("sale_id") or obj.get("capture_id") or up_link(obj)
    settled = refund_settlement(obj.get("seller_payable_breakdown"), amount, currency) \
        if status == "succeeded" else None
    return RefundRecord(G, obj["id"], (parent,), amount, currency, status,
                        when(obj.get("create_time")), settled, "other",
                        "PayPal could not complete the refund." if status == "failed" else None,
                        obj.get("custom_id"))


def refund_settlement(breakdown, amount_cents, currency):
    """A refund's seller_payable_breakdown -> Settlement: what left the balance, gross of
    PayPal's fee, in the currency PayPal holds (the *_in_receivable_currency figures when it
    converted); None when PayPal does not say."""
    if not breakdown:
        return None
    if breakdown.get("net_amount_in_receivable_currency"):
        net, paid_in = cents(breakdown["net_amount_in_receivable_currency"])
        fee = cents(breakdown["paypal_fee_in_receivable_currency"])[0] \
            if breakdown.get("paypal_fee_in_receivable_currency") else 0
        return Settlement(net + fee, paid_in, fee)
    if breakdown.get("gross_amount"):
        gross, paid_in = cents(breakdown["gross_amount"])
        fee = cents(breakdown["paypal_fee"])[0] if breakdown.get("paypal_fee") else 0
        return Settlement(gross, paid_in, fee)
    return None


def reversal(obj):
    """PAYMENT.CAPTURE.REVERSED: the money went back to the buyer (a chargeback): a lost
    dispute on the capture."""
    amount, currency = cents(obj["amount"])
    capture_id = up_link(obj) or obj["id"]
    return DisputeRecord(G, f"reversal:{obj['id']}", (capture_id,), abs(amount), currency,
                         "lost", when(obj.get("update_time") or obj.get("create_time")),
                         "reversal")


def dispute(obj):
    amount, currency = cents(obj["dispute_amount"])
    outcome = (obj.get("dispute_outcome") or {}).get("outcome_code", "")
    status = "open"
    if obj.get("status") == "RESOLVED":
        status = "won" if "SELLER_FAVOUR" in outcome or outcome == "CANCELED_BY_BUYER" else "lost"
    captures = tuple(t.get("seller_transaction_id") for t in obj.get("disputed_transactions")
                     or [])
    return DisputeRecord(G, obj["dispute_id"], captures, amount, currency, status,
                         when(obj.get("create_time")), obj.get("reason"))


def subscription(obj, updated_at, price, status=None):
    """price = (cents, currency, interval, interval_count, name): the plan's list price.

    The status is the adapter's reading (status_of). A cancelled subscription no longer has a
    next billing time: its period end is then the last payment plus one cycle, and its access
    lasts to the end of the period paid for (access_until None: apply_accounts._access_until
    decides between this end and the one known before).
    """
    info = obj.get("billing_info") or {}
    our_status = status or status_of(obj)
    period_end, paid = when(info.get("next_billing_time")), None
    if period_end is None and our_status == "canceled":
        paid = when((info.get("last_payment") or {}).get("time"))
        period_end = add_cycle(paid, price[2], price[3]) if paid else None
    return SubscriptionRecord(
        G, obj["id"], payer(obj.get("subscriber") or {}), our_status, price[4], price[0],
        price[1], price[2], price[3], when(obj.get("start_time") or obj.get("create_time")),
        updated_at, obj.get("plan_id"), period_end, False,
        (when(obj.get("status_update_time")) or updated_at)
        if our_status == "canceled" else None,
        obj.get("status") == "SUSPENDED", price_from_plan=True,
        plan_overridden=bool(obj.get("plan_overridden")), last_paid_at=paid)


def add_cycle(start, interval, count):
    """start + count intervals (a month from 31 Jan is the last day of February)."""
    if interval in ("day", "week"):
        return start + timedelta(days=count * (7 if interval == "week" else 1))
    months = count * (12 if interval == "year" else 1)
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    return start.replace(year=year, month=month,
                         day=min(start.day, calendar.monthrange(year, month)[1]))


def plan_price(plan):
    """A PayPal plan's regular cycle -> (cents, currency, interval, count, name)."""
    cycles = plan.get("billing_cycles") or []
    regular = next((c for c in cycles if c.get("tenure_type") == "REGULAR"), cycles[-1])
    amount, currency = cents(regular["pricing_scheme"]["fixed_price"])
    frequency = regular.get("frequency") or {}
    return (amount, currency, _UNITS.get(frequency.get("interval_unit"), "month"),
            int(frequency.get("interval_count") or 1), plan.get("name") or "PayPal subscription")
