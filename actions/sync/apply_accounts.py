"""Customers and subscriptions from gateway records, never moved backwards; no commit."""
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from actions import audit
from models import Customer, Plan, Subscription, db
from models.access import period_moved_unpaid, unpaid_from_after
from models.text import clean_text

GATEWAY_ID = {"stripe": "stripe_customer_id", "paypal": "paypal_payer_id"}
PLAN_ID = {"stripe": "stripe_price_id", "paypal": "paypal_plan_id"}
#: statuses a subscription never leaves at the gateways (Stripe and PayPal cannot reactivate)
FINAL = ("canceled",)


def _newer(incoming, stored):
    """Whether a state stamped `incoming` may overwrite one stamped `stored`."""
    return stored is None or (incoming is not None and incoming >= stored)


def find_customer(rec, lock=False):
    """Our customer for a gateway customer: by its gateway id, else by e-mail (`lock`: FOR
    UPDATE)."""
    column = getattr(Customer, GATEWAY_ID[rec.gateway])
    found = None
    if rec.ref:
        found = db.session.scalar(_locked(select(Customer).where(column == rec.ref), lock))
    if found is None and rec.email:
        found = db.session.scalar(_locked(select(Customer).where(
            func.lower(Customer.email) == rec.email.lower()), lock))
    return found


def _locked(query, lock):
    return query.with_for_update() if lock else query


def apply_customer(deps, actor, rec, fetch=None):
    """Create or update a customer; returns (customer, "created"|"updated"|"unchanged").

    A record with `updated_at` (the customer object itself) overwrites details only if it is
    not older than what was applied before; one without (details from a payment) only fills
    a customer we do not have. `fetch(ref)` gives the gateway's record when the one given has
    no e-mail to create a customer with.

    The customer's row is locked only when there is something to write to it (then read
    again under the lock): a payment of a customer we have takes no lock on the customer, so
    webhook batches of two lanes (a charge's, its customer's) paying the same customers do
    not wait for each other (their lifetime values are added at the batches' ends).
    """
    customer = find_customer(rec)
    if customer is not None:
        audit.concerns(actor, customer.id)
    if customer is None:
        if not rec.email and fetch and rec.ref:
            rec = fetch(rec.ref)
        customer = _create_customer(rec)
        if customer is not None:
            audit.record(actor, "customer.imported", customer, outcome="succeeded",
                         after={"gateway": rec.gateway, "ref": rec.ref,
                                "email": customer.email})
            return customer, "created"
        # another transaction (a webhook lane, the sync) created it meanwhile, and has
        # committed: it is updated like any customer we have
        customer = find_customer(rec)
        if customer is None:
            raise RuntimeError(f"customer {rec.ref} <{rec.email}> was neither created "
                               "nor found")
        audit.concerns(actor, customer.id)
    changes, stamp = _changes(customer, rec)
    if changes or stamp:  # something to write: lock the row and look again under the lock
        db.session.refresh(customer, with_for_update=True)
        changes, stamp = _changes(customer, rec)
    if stamp:
        customer.gateway_updated_at = rec.updated_at
    if not changes:
        return customer, "unchanged"
    before = {k: getattr(customer, k) for k in changes}
    for key, value in changes.items():
        setattr(customer, key, value)
    audit.record(actor, "customer.synced", customer, outcome="succeeded", before=before,
                 after=changes)
    return customer, "updated"


def _create_customer(rec):
    """Insert the customer unless one with its gateway id or e-mail exists (INSERT ... ON
    CONFLICT DO NOTHING); the new customer, or None when another transaction had it. A
    transaction creating the same customer and not yet committed is waited for (PostgreSQL),
    instead of the insert failing on the unique index once it commits (which cost a webhook
    event a retry 30 s later)."""
    # an INSERT statement passes by the model's text rule (models/text.py): cleaned here
    values = {"name": clean_text(rec.name) or _name_from(rec.email, rec.ref),
              "email": clean_text(rec.email or f"{rec.ref}@{rec.gateway}.invalid").lower(),
              "country": clean_text(rec.country) or None, "lifetime_value_cents": 0,
              "gateway_updated_at": rec.updated_at, GATEWAY_ID[rec.gateway]: rec.ref}
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        db.session.get_bind().dialect.name]
    db.session.flush()  # what this transaction has pending goes first, as in the ORM's order
    new_id = db.session.scalar(insert(Customer).values(**values).on_conflict_do_nothing()
                               .returning(Customer.id))
    return None if new_id is None else db.session.get(Customer, new_id)


def _changes(customer, rec):
    """({column: new value} the record brings to `customer`, whether its stamp moves)."""
    changes = {}
    if rec.ref and getattr(customer, GATEWAY_ID[rec.gateway]) != rec.ref \
            and not getattr(customer, GATEWAY_ID[rec.gateway]):
        changes[GATEWAY_ID[rec.gateway]] = rec.ref
    stamp = False
    if rec.updated_at is not None and _newer(rec.updated_at, customer.gateway_updated_at):
        for name in ("email", "name", "country"):
            value = clean_text(getattr(rec, name))  # as the model would store it
            if name == "email" and value:
                value = value.lower()
            if value and getattr(customer, name) != value:
                changes[name] = value
        stamp = customer.gateway_updated_at != rec.updated_at
    return changes, stamp


def _name_from(email, ref):
    return (email or "").split("@")[0] or ref or "Unknown customer"


def find_subscription(gateway, ref, lock=True):
    query = select(Subscription).where(Subscription.gateway == gateway,
                                       Subscription.gateway_id == ref)
    return db.session.scalar(query.with_for_update() if lock else query)


def same_second(gateway, ref, when):
    """Whether a subscription's state stamped `when` carries the very time of the state we
    hold. The gateways stamp whole seconds and do not promise their events' order, so which
    of two states of one second is the later cannot be read off them (a payment that failed
    and then succeeded, a period that rolled over): the handlers ask the gateway for its
    current state instead (read_ahead reads it first)."""
    if when is None or not ref:
        return False
    stored = db.session.scalar(select(Subscription.gateway_updated_at).where(
        Subscription.gateway == gateway, Subscription.gateway_id == ref))
    return stored is not None and stored == when


def live_subscriptions(gateway, customer_ref):
    """The gateway ids of the subscriptions of a gateway customer that are not over."""
    if not customer_ref:
        return []
    return db.session.scalars(select(Subscription.gateway_id).join(Customer).where(
        getattr(Customer, GATEWAY_ID[gateway]) == customer_ref,
        Subscription.gateway == gateway, Subscription.status.not_in(FINAL))
        .order_by(Subscription.id)).all()


def _values(rec):
    values = {"status": rec.status, "name": rec.name, "price_cents": rec.price_cents,
              "currency": rec.currency, "interval": rec.interval,
              "interval_count": rec.interval_count,
              "current_period_end": rec.current_period_end,
              "next_payment_date": None if rec.status == "canceled" else rec.current_period_end,
              "cancel_at_period_end": rec.cancel_at_period_end, "cancel_at": rec.cancel_at,
              "canceled_at": rec.canceled_at, "paused": rec.paused,
              "pause_resumes_at": rec.pause_resumes_at if rec.paused else None}
    if rec.current_period_end is None and rec.status == "canceled":
        del values["current_period_end"]  # a cancelled PayPal subscription no longer says
    return values


def _plan(rec):
    if not rec.plan_ref:
        return None
    return db.session.scalar(select(Plan).where(getattr(Plan, PLAN_ID[rec.gateway])
                                                == rec.plan_ref))


def _access_until(sub, rec):
    """When a cancellation seen at the gateway ends access: the gateway's word (Stripe), else
    the end of the period paid for (PayPal): the end we knew, unless the cancelled
    subscription's last payment was made at or after it, for a period we never saw (a renewal
    whose events have not arrived: webhooks come in any order, and after a cancellation,
    which is final, they change nothing); access then lasts a cycle from that payment."""
    if rec.access_until is not None:
        return rec.access_until
    known = sub.current_period_end if sub is not None else None
    if known is None or (rec.last_paid_at is not None and rec.last_paid_at >= known):
        return rec.current_period_end or known
    return known


def _unpaid_period(sub, rec):
    """The period Stripe moved a paused subscription on to, unpaid (models/access.py)."""
    return rec.status != "canceled" and period_moved_unpaid(sub, rec.current_period_end,
                                                            rec.paused)


def apply_subscription(deps, actor, rec, fetch_customer=None):
    """Create or update a subscription; (subscription, "created"|"updated"|"unchanged").

    Older states (by the gateway's time) and anything after a cancellation are ignored; a
    cancellation applies whenever it arrives (neither gateway reactivates a canceled one) and
    sets when access ends once. A plan's list price (PayPal) never replaces the price of a
    subscription on the same plan or with its own price (set in the panel).
    """
    sub = find_subscription(rec.gateway, rec.ref)
    if sub is not None:
        audit.concerns(actor, sub.customer_id)
    values = _values(rec)
    plan = _plan(rec)
    if sub is None:
        customer, _ = apply_customer(deps, actor, rec.customer, fetch_customer)
        if rec.status == "canceled":
            values["access_until"] = _access_until(None, rec)
        sub = Subscription(customer_id=customer.id, plan_id=plan.id if plan else None,
                           gateway=rec.gateway, gateway_id=rec.ref, start_date=rec.start_date,
                           gateway_updated_at=rec.updated_at, **values)
        db.session.add(sub)
        db.session.flush()
        audit.record(actor, "subscription.imported", sub, outcome="succeeded",
                     after={"status": sub.status, "gateway_id": sub.gateway_id})
        return sub, "created"
    ending = rec.status in FINAL and sub.status not in FINAL  # final: applies whenever seen
    if (sub.status in FINAL and rec.status not in FINAL) or \
            not (ending or _newer(rec.updated_at, sub.gateway_updated_at)):
        return sub, "unchanged"
    if ending:
        values["access_until"] = _access_until(sub, rec)
    if rec.status != "canceled":
        values["unpaid_from"] = unpaid_from_after(sub, rec.current_period_end, rec.paused)
    if _unpaid_period(sub, rec):
        del values["current_period_end"]  # access still ends with the period paid for
    if plan is not None:
        values["plan_id"] = plan.id
    if rec.price_from_plan and (rec.plan_overridden or plan is None or plan.id == sub.plan_id):
        for key in ("price_cents", "name"):
            del values[key]
    values.update(_price_schedule(sub, rec, values))
    changes = {k: v for k, v in values.items() if getattr(sub, k) != v}
    sub.gateway_updated_at = rec.updated_at
    if not changes:
        return sub, "unchanged"
    before = {k: _plain(getattr(sub, k)) for k in changes}
    for key, value in changes.items():
        setattr(sub, key, value)
    audit.record(actor, "subscription.synced", sub, outcome="succeeded", before=before,
                 after={k: _plain(v) for k, v in changes.items()})
    return sub, "updated"


#: a period end this far past a scheduled price's date is a renewal (a cycle is a day or more)
RENEWED_AFTER = timedelta(hours=12)


def _price_schedule(sub, rec, values):
    """A price changed "from the next renewal" (Subscription.price_from) takes effect when the
    gateway's period moves past that renewal; a price the gateway reports that is not the one
    scheduled (changed there) ends the wait too. Until then the gateway's new price (Stripe
    and PayPal hold it at once) leaves the schedule as it is."""
    if not sub.price_scheduled:
        return {}
    period_end = values.get("current_period_end")
    renewed = period_end is not None and period_end > sub.price_from + RENEWED_AFTER
    repriced = "price_cents" in values and values["price_cents"] != sub.price_cents
    if renewed or repriced or values.get("status") == "canceled":
        return {"price_before_cents": None, "price_from": None}
    return {}


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
