"""What each Stripe event does: translate its object (stripe_map), apply it (apply_*)."""
from actions.sync import stripe_map as m
from actions.sync.apply_accounts import apply_customer, apply_subscription, find_subscription
from actions.sync.apply_money import MissingParent, apply_dispute, apply_payment, apply_refund


def _fetch_customer(ctx):
    """The gateway's customer, when a payment or subscription names one we do not have."""
    if ctx.reader is None:
        return None
    return lambda ref: m.customer(ctx.reader.customer(ref), ctx.clock())


def _obj(event):
    return event["data"]["object"]


def charge_succeeded(event, ctx):
    apply_payment(m.charge(_obj(event), ctx.reader, ctx.store), ctx.actor, _fetch_customer(ctx))


def invoice_paid(event, ctx):
    record = m.invoice(_obj(event), ctx.store)
    if record is None:
        return
    if record.subscription_ref and ctx.reader is not None and \
            find_subscription("stripe", record.subscription_ref, lock=False) is None:
        current = ctx.reader.get(f"/v1/subscriptions/{record.subscription_ref}")
        apply_subscription(m.subscription(current, ctx.clock(), ctx.store), ctx.actor,
                           _fetch_customer(ctx))
    apply_payment(record, ctx.actor, _fetch_customer(ctx))


def charge_refunded(event, ctx):
    charge = _obj(event)
    apply_payment(m.charge(charge, ctx.reader, ctx.store), ctx.actor, _fetch_customer(ctx))
    refunds = (charge.get("refunds") or {}).get("data")
    if refunds is None:
        if ctx.reader is None:
            raise MissingParent("the event does not list the refunds and Stripe is not "
                                "configured (STRIPE_API_KEY) to ask for them")
        refunds = ctx.reader.refunds_of(charge["id"])
    for refund in refunds:
        apply_refund(m.refund(refund, ctx.reader, ctx.store), ctx.actor)


def _with_parent(apply, record, charge_id, ctx):
    """Apply a refund or dispute; fetch and import its payment first when we lack it."""
    try:
        apply(record, ctx.actor)
    except MissingParent:
        if ctx.reader is None or not charge_id:
            raise
        charge = ctx.reader.charge(charge_id)
        apply_payment(m.charge(charge, ctx.reader, ctx.store), ctx.actor, _fetch_customer(ctx))
        apply(record, ctx.actor)


def refund_updated(event, ctx):
    obj = _obj(event)
    _with_parent(apply_refund, m.refund(obj, ctx.reader, ctx.store), m._id(obj.get("charge")),
                 ctx)


def dispute_changed(event, ctx):
    obj = _obj(event)
    _with_parent(apply_dispute, m.dispute(obj, ctx.store), m._id(obj.get("charge")), ctx)


def customer_changed(event, ctx):
    apply_customer(m.customer(_obj(event), m.ts(event["created"])), ctx.actor)


def subscription_changed(event, ctx):
    record = m.subscription(_obj(event), m.ts(event["created"]), ctx.store)
    if event["type"] == "customer.subscription.deleted":
        record = record.__class__(**{**record.__dict__, "status": "canceled",
                                     "canceled_at": record.canceled_at or record.updated_at})
    apply_subscription(record, ctx.actor, _fetch_customer(ctx))


HANDLERS = {
    "charge.succeeded": charge_succeeded,
    "charge.updated": charge_succeeded,
    "invoice.paid": invoice_paid,
    "invoice.payment_succeeded": invoice_paid,
    "charge.refunded": charge_refunded,
    "refund.created": refund_updated,
    "refund.updated": refund_updated,
    "charge.refund.updated": refund_updated,
    "charge.dispute.created": dispute_changed,
    "charge.dispute.updated": dispute_changed,
    "charge.dispute.closed": dispute_changed,
    "customer.created": customer_changed,
    "customer.updated": customer_changed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
}
