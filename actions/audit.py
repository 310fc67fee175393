"""Audit entries, added to the caller's database transaction."""
from models import AuditEvent, Customer, Subscription, Transaction, db

#: the entries a customer's timeline shows (actions.timeline): each gets the customer's id.
#: Payments, refunds, disputes, subscription changes and notes have rows of their own, which
#: the timeline reads instead of their audit entries.
TIMELINE_ACTIONS = frozenset({"customer.edit", "customer.imported", "customer.synced",
                              "invoice.resend", "sale.affiliate", "subscription.imported",
                              "subscription.synced"})
_OWNED = {Transaction.__tablename__: Transaction, Subscription.__tablename__: Subscription}


def customer_of(target_type, target_id, target=None):
    """The id of the customer a target belongs to (a customer, a payment, a subscription);
    None for anything else (admin users, plans, webhook events...)."""
    if target_id is None:
        return None
    if target_type == Customer.__tablename__:
        return target_id
    model = _OWNED.get(target_type)
    if model is None:
        return None
    row = target if isinstance(target, model) else db.session.get(model, target_id)
    return getattr(row, "customer_id", None)


def concerns(actor, customer_id):
    """Note that what `actor` applies concerns this customer: a webhook event's own actor
    collects them (actions.sync.events links the event to its customer); others ignore it."""
    touched = getattr(actor, "customers", None)
    if touched is not None and customer_id is not None:
        touched.add(customer_id)


def record(actor, action, target, *, outcome, before=None, after=None, gateway_ref=None,
           message=None):
    """Add one AuditEvent for `target` (a model instance or a (type, id) pair); no commit."""
    if isinstance(target, tuple):
        (target_type, target_id), instance = target, None
    else:
        target_type, target_id, instance = target.__tablename__, target.id, target
    customer_id = customer_of(target_type, target_id, instance)
    concerns(actor, customer_id)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None), actor_email=getattr(actor, "email", None),
        action=action, target_type=target_type, target_id=target_id, before=before,
        after=after, outcome=outcome, gateway_ref=gateway_ref, message=message,
        customer_id=customer_id if action in TIMELINE_ACTIONS else None)
    db.session.add(event)
    return event


def record_refusal(actor, action, target, *, outcome, message):
    """Audit an operation that was refused or failed before changing anything; commits."""
    db.session.rollback()
    record(actor, action, target, outcome=outcome, message=message)
    db.session.commit()
