"""What each Stripe event does: translate its object (stripe_map), apply it (apply_*)."""
from datetime import timedelta

from actions.sync import stripe_map as m
from actions.sync.apply_accounts import (apply_customer, apply_subscription, find_subscription,
                                         live_subscriptions, same_second)
from actions.sync.apply_money import (MissingParent, apply_dispute, apply_payment, apply_refund,
                                      find_payment)


def _fetch_customer(ctx):
    """The gateway's customer, when a payment or subscription names one we do not have."""
    if ctx.reader is None:
        return None
    return lambda ref: m.customer(ctx.reader.customer(ref), _fetched_at(ctx))


def _fetched_at(ctx):
    """The time to stamp a fetched object's state with: whole seconds, like Stripe's event
    times, and a second early, so that an event of the same second still applies."""
    return ctx.clock().replace(microsecond=0) - timedelta(seconds=1)


def _obj(event):
    return event["data"]["object"]


def _payment(charge, ctx):
    record = m.charge(charge, ctx.reader, ctx.store)
    return apply_payment(ctx.deps, ctx.actor, record, _fetch_customer(ctx))


def charge_succeeded(event, ctx):
    _payment(_obj(event), ctx)


def charge_failed(event, ctx):
    """A declined payment (a renewal's, a one-off's) brings no money. A payment of ours that
    was pending is marked failed; one we do not have is not recorded. The customer's
    subscriptions take the state Stripe gives them now (a declined renewal: past due), read
    from Stripe (read ahead of the batch): the charge does not say which subscription it was
    for."""
    charge = _obj(event)
    record = m.charge(charge, None, ctx.store)
    if find_payment("stripe", record.refs) is not None:
        apply_payment(ctx.deps, ctx.actor, record)
    if ctx.reader is None:
        return
    for ref in live_subscriptions("stripe", m.object_id(charge.get("customer"))):
        current = m.subscription(ctx.reader.subscription(ref), _fetched_at(ctx), ctx.store)
        apply_subscription(ctx.deps, ctx.actor, current)


def invoice_paid(event, ctx):
    record = m.invoice(_obj(event), ctx.store)
    if record is None:
        return
    if record.subscription_ref and ctx.reader is not None and \
            find_subscription("stripe", record.subscription_ref, lock=False) is None:
        current = ctx.reader.subscription(record.subscription_ref)
        subscription = m.subscription(current, _fetched_at(ctx), ctx.store)
        apply_subscription(ctx.deps, ctx.actor, subscription, _fetch_customer(ctx))
    apply_payment(ctx.deps, ctx.actor, record, _fetch_customer(ctx))


def charge_refunded(event, ctx):
    charge = _obj(event)
    _payment(charge, ctx)
    refunds = (charge.get("refunds") or {}).get("data")
    if refunds is None:
        if ctx.reader is None:
            raise MissingParent("the event does not list the refunds and Stripe is not "
                                "configured (STRIPE_API_KEY) to ask for them")
        refunds = ctx.reader.refunds_of(charge["id"])
    for refund in refunds:
        apply_refund(ctx.deps, ctx.actor, m.refund(refund, ctx.reader, ctx.store))


def _with_parent(apply, record, charge_id, ctx):
    """Apply a refund or dispute; fetch and import its payment first when we lack it."""
    try:
        apply(ctx.deps, ctx.actor, record)
    except MissingParent:
        if ctx.reader is None or not charge_id:
            raise
        _payment(ctx.reader.charge(charge_id), ctx)
        apply(ctx.deps, ctx.actor, record)


def refund_updated(event, ctx):
    obj = _obj(event)
    _with_parent(apply_refund, m.refund(obj, ctx.reader, ctx.store), m.object_id(obj.get("charge")),
                 ctx)


def dispute_changed(event, ctx):
    obj = _obj(event)
    _with_parent(apply_dispute, m.dispute(obj, ctx.store), m.object_id(obj.get("charge")), ctx)


def customer_changed(event, ctx):
    apply_customer(ctx.deps, ctx.actor, m.customer(_obj(event), m.ts(event["created"])))


def subscription_changed(event, ctx):
    obj, when = _obj(event), m.ts(event["created"])
    if ctx.reader is not None and same_second("stripe", obj.get("id"), when):
        obj = ctx.reader.subscription(obj["id"])  # which state of the second is the later
    record = m.subscription(obj, when, ctx.store)
    if event["type"] == "customer.subscription.deleted":
        ended = record.canceled_at or record.updated_at
        record = record.__class__(**{**record.__dict__, "status": "canceled",
                                     "canceled_at": ended,
                                     "access_until": record.access_until or ended})
    apply_subscription(ctx.deps, ctx.actor, record, _fetch_customer(ctx))


HANDLERS = {
    "charge.succeeded": charge_succeeded,
    "charge.updated": charge_succeeded,
    "charge.failed": charge_failed,
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
