"""What each PayPal event does: translate its resource (paypal_map), apply it (apply_*)."""
from sqlalchemy import select

from actions.sync import paypal_map as m
from actions.sync.apply_accounts import apply_subscription, find_subscription
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
    capture = _resource(event)
    apply_payment(m.capture(capture, capture_customer(capture, ctx), ctx.store), ctx.actor)


def sale_customer(sale, ctx):
    """A sale names its subscription, not its buyer; an unknown subscription is fetched and
    imported first."""
    sub = find_subscription("paypal", sale.get("billing_agreement_id"), lock=False)
    if sub is None:
        current = _need_reader(ctx, f"subscription {sale.get('billing_agreement_id')} is "
                                    "unknown here").subscription(sale["billing_agreement_id"])
        sub, _ = apply_subscription(m.subscription(current, ctx.clock(),
                                                   subscription_price(current, ctx)), ctx.actor)
    customer = sub.customer
    return CustomerRecord("paypal", customer.paypal_payer_id, customer.email, customer.name)


def sale_completed(event, ctx):
    sale = _resource(event)
    apply_payment(m.sale(sale, sale_customer(sale, ctx), ctx.store), ctx.actor)


def refunded(event, ctx):
    record = m.refund(_resource(event))
    try:
        apply_refund(record, ctx.actor)
    except MissingParent:
        capture_id = record.payment_refs[0]
        if not capture_id or event["event_type"] != "PAYMENT.CAPTURE.REFUNDED":
            raise
        capture = _need_reader(ctx, "the refunded capture is unknown").capture(capture_id)
        apply_payment(m.capture(capture, capture_customer(capture, ctx), ctx.store), ctx.actor)
        apply_refund(record, ctx.actor)


def reversed_(event, ctx):
    apply_dispute(m.reversal(_resource(event)), ctx.actor)


def dispute_changed(event, ctx):
    apply_dispute(m.dispute(_resource(event)), ctx.actor)


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
    status = "past_due" if event["event_type"].endswith("PAYMENT.FAILED") else None
    record = m.subscription(sub, _event_time(event), subscription_price(sub, ctx), status)
    apply_subscription(record, ctx.actor)


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
