"""What each PayPal event does: translate its resource (paypal_map), apply it (apply_*)."""
from sqlalchemy import select

from actions.errors import GatewayError
from actions.sync import paypal_map as m
from actions.sync.apply_accounts import apply_subscription, find_subscription, same_second
from actions.sync.apply_money import MissingParent, apply_dispute, apply_payment, apply_refund
from actions.sync.records import CustomerRecord
from models import Plan, db


def _resource(event):
    return event["resource"]


def _event_time(event):
    return m.when(event.get("create_time"))


def _need_reader(ctx, what):
    if ctx.reader is None:
        raise MissingParent(f"{what}, and PayPal is not configured (PAYPAL_CLIENT_ID) to ask")
    return ctx.reader


def capture_customer(capture, ctx):
    """A capture does not name its buyer: the order it belongs to does."""
    order_id = ((capture.get("supplementary_data") or {}).get("related_ids") or {}) \
        .get("order_id")
    if not order_id:
        raise MissingParent(f"capture {capture['id']} names no order (and so no buyer)")
    return m.payer(_need_reader(ctx, "a capture does not name its buyer").order(order_id)
                   .get("payer") or {})


def capture_completed(event, ctx):
    _capture(_resource(event), ctx)


def _capture(capture, ctx):
    record = m.capture(capture, capture_customer(capture, ctx), ctx.store)
    return apply_payment(ctx.deps, ctx.actor, record)


def sale_customer(sale, ctx):
    """A sale names its subscription, not its buyer; an unknown subscription is fetched and
    imported first."""
    sub = find_subscription("paypal", sale.get("billing_agreement_id"), lock=False)
    if sub is None:
        current = _need_reader(ctx, f"subscription {sale.get('billing_agreement_id')} is "
                                    "unknown here").subscription(sale["billing_agreement_id"])
        record = m.subscription(current, ctx.clock(), subscription_price(current, ctx))
        sub, _ = apply_subscription(ctx.deps, ctx.actor, record)
    customer = sub.customer
    return CustomerRecord("paypal", customer.paypal_payer_id, customer.email, customer.name)


def sale_completed(event, ctx):
    sale = _resource(event)
    apply_payment(ctx.deps, ctx.actor, m.sale(sale, sale_customer(sale, ctx), ctx.store))


def refunded(event, ctx):
    """A refund; one that arrives before its payment (PayPal does not promise the order)
    fetches the payment from PayPal and records it first."""
    record = m.refund(_resource(event))
    try:
        apply_refund(ctx.deps, ctx.actor, record)
    except MissingParent:
        parent_id = record.payment_refs[0]
        if not parent_id:
            raise
        if event["event_type"] == "PAYMENT.CAPTURE.REFUNDED":
            _capture(_need_reader(ctx, "the refunded capture is unknown").capture(parent_id),
                     ctx)
        else:  # PAYMENT.SALE.REFUNDED: a subscription payment's refund
            sale = _need_reader(ctx, "the refunded sale is unknown").sale(parent_id)
            apply_payment(ctx.deps, ctx.actor, m.sale(sale, sale_customer(sale, ctx), ctx.store))
        apply_refund(ctx.deps, ctx.actor, record)


def reversed_(event, ctx):
    apply_dispute(ctx.deps, ctx.actor, m.reversal(_resource(event)))


def dispute_changed(event, ctx):
    """A dispute; one that arrives before its payment (PayPal does not promise the order)
    fetches the disputed capture (or, for a subscription payment, sale) first."""
    record = m.dispute(_resource(event))
    try:
        apply_dispute(ctx.deps, ctx.actor, record)
    except MissingParent:
        parent_id = next((ref for ref in record.payment_refs if ref), None)
        if not parent_id:
            raise
        reader = _need_reader(ctx, "the disputed payment is unknown")
        try:
            capture = reader.capture(parent_id)
        except GatewayError:  # not a capture: a subscription's sale
            sale = reader.sale(parent_id)
            apply_payment(ctx.deps, ctx.actor, m.sale(sale, sale_customer(sale, ctx), ctx.store))
        else:
            _capture(capture, ctx)
        apply_dispute(ctx.deps, ctx.actor, record)


def subscription_price(sub, ctx):
    """(cents, currency, interval, count, name) of a PayPal subscription's plan."""
    plan = db.session.scalar(select(Plan).where(Plan.paypal_plan_id == sub.get("plan_id"))) \
        if sub.get("plan_id") else None
    if plan is not None:
        return plan.price_cents, plan.currency, plan.interval, plan.interval_count, plan.name
    return m.plan_price(_need_reader(ctx, f"plan {sub.get('plan_id')} is unknown here")
                        .plan(sub["plan_id"]))


def subscription_changed(event, ctx):
    sub = _resource(event)
    if sub.get("status") in ("APPROVAL_PENDING", "APPROVED"):
        return  # not yet a subscription: ACTIVATED follows
    failed = event["event_type"].endswith("PAYMENT.FAILED")
    when = _event_time(event)
    if ctx.reader is not None and same_second("paypal", sub.get("id"), when):
        sub = ctx.reader.subscription(sub["id"])  # which state of the second is the later
        failed = sub.get("status") == "ACTIVE" and bool(
            (sub.get("billing_info") or {}).get("failed_payments_count"))
    record = m.subscription(sub, when, subscription_price(sub, ctx),
                            "past_due" if failed else None)
    apply_subscription(ctx.deps, ctx.actor, record)


HANDLERS = {
    "PAYMENT.CAPTURE.COMPLETED": capture_completed,
    "PAYMENT.CAPTURE.REFUNDED": refunded,
    "PAYMENT.CAPTURE.REVERSED": reversed_,
    "PAYMENT.SALE.COMPLETED": sale_completed,
    "PAYMENT.SALE.REFUNDED": refunded,
    "CUSTOMER.DISPUTE.CREATED": dispute_changed,
    "CUSTOMER.DISPUTE.UPDATED": dispute_changed,
    "CUSTOMER.DISPUTE.RESOLVED": dispute_changed,
    **{f"BILLING.SUBSCRIPTION.{kind}": subscription_changed
       for kind in ("CREATED", "ACTIVATED", "UPDATED", "CANCELLED", "SUSPENDED", "EXPIRED",
                    "RE-ACTIVATED", "PAYMENT.FAILED")},
}
