"""The payments, new customers and Stripe customers' subscriptions a webhook batch will
write, claimed at its start in one order (PostgreSQL transaction-level advisory locks, held
to the commit).

Two lanes may bring the same payment (a Stripe renewal's charge.succeeded in the charge's
lane, its invoice.paid in the customer's) or create the same customer, or change a customer's subscriptions (customer.subscription.* in
the customer's lane, charge.failed in the charge's). Claimed one by one as
each event reached them, two batches could hold one each and wait for the other's (a
deadlock, PostgreSQL ending one batch); a customer both inserted made one event fail. A batch
now claims everything it will create or lock of these before its first row lock, in the order
of the locks' keys: a batch that meets another's claims waits for its commit, and then finds
what it created. Events the claims did not foresee (a parent fetched, a buyer an order names)
still take the payment's lock where they create it, and insert customers with ON CONFLICT.
"""
import json

from sqlalchemy import func, or_, select, text

from actions.sync.apply_money import PAYMENT_CREATION_LOCK, payment_lock_key
from actions.sync.stripe_map import object_id
from models import Customer, db

#: the advisory lock class of a customer being created (its gateway id, its e-mail)
CUSTOMER_CREATION_LOCK = 7_263_542
#: the advisory lock class of a Stripe customer's subscriptions, which two lanes change: the
#: customer's (customer.subscription.*) and a charge's (charge.failed reads them again)
SUBSCRIPTIONS_LOCK = 7_263_543


def claim_batch(events):
    """Take the advisory locks of `events` (WebhookEvent rows), keys in order."""
    if db.session.get_bind().dialect.name != "postgresql" or not events:
        return
    payments, customers, subscriptions = set(), set(), set()
    for event in events:
        try:
            payload = json.loads(event.payload)
            found = (_stripe if event.gateway == "stripe" else _paypal)(payload,
                                                                        event.event_type)
            if event.gateway == "stripe":
                subscriptions.update(_stripe_subscriptions(payload, event.event_type))
        except Exception:  # noqa: BLE001 - a malformed event (a bad amount, a missing
            continue  # field): no claim; its handler says what is wrong with it
        payments.update(payment_lock_key(event.gateway, ref) for ref in found[0] if ref)
        customers.update((event.gateway, ref, (email or "").lower() or None)
                         for ref, email in found[1] if ref or email)
    keys = [(PAYMENT_CREATION_LOCK, key) for key in payments]
    keys += [(CUSTOMER_CREATION_LOCK, key) for key in _new_customer_keys(customers)]
    keys += [(SUBSCRIPTIONS_LOCK, f"stripe:{ref}") for ref in subscriptions]
    if keys:
        db.session.execute(text(
            "SELECT pg_advisory_xact_lock(c, h) FROM (SELECT DISTINCT c, hashtext(k) AS h "
            "FROM unnest(CAST(:cs AS integer[]), CAST(:ks AS text[])) AS t(c, k) "
            "ORDER BY c, h OFFSET 0) AS ordered"),
            {"cs": [c for c, _ in keys], "ks": [k for _, k in keys]})


def customer_lock_keys(gateway, ref, email):
    return [k for k in (ref and f"{gateway}:{ref}", email and f"email:{email.lower()}") if k]


def _new_customer_keys(customers):
    """The keys of the customers we do not have (by gateway id, nor by e-mail)."""
    if not customers:
        return []
    refs = {ref for _, ref, _ in customers if ref}
    emails = {email for _, _, email in customers if email}
    known = set()
    for stripe_id, paypal_id, email in db.session.execute(
            select(Customer.stripe_customer_id, Customer.paypal_payer_id,
                   func.lower(Customer.email)).where(or_(
                       Customer.stripe_customer_id.in_(refs), Customer.paypal_payer_id.in_(refs),
                       func.lower(Customer.email).in_(emails)))):
        known.update({("stripe", stripe_id), ("paypal", paypal_id), ("email", email)})
    keys = []
    for gateway, ref, email in customers:
        if (gateway, ref) not in known and ("email", email) not in known:
            keys += customer_lock_keys(gateway, ref, email)
    return keys


def _stripe(event, event_type):
    """(payment refs, [(customer ref, e-mail)]) a Stripe event may create or lock."""
    from actions.sync import stripe_map
    obj = event["data"]["object"]
    kind = obj.get("object")
    if kind == "charge":
        details = obj.get("billing_details") or {}
        return ((object_id(obj.get("payment_intent")), obj["id"]),
                [(object_id(obj.get("customer")),
                  details.get("email") or obj.get("receipt_email"))])
    if kind == "invoice":
        record = stripe_map.invoice(obj, None)
        if record is None:
            return (), []
        return record.refs, [(record.customer.ref, record.customer.email)]
    if kind in ("refund", "dispute"):
        return (object_id(obj.get("payment_intent")), object_id(obj.get("charge"))), []
    if kind == "subscription":
        return (), [(object_id(obj.get("customer")), None)]
    if kind == "customer":
        return (), [(obj["id"], obj.get("email"))]
    return (), []


def _stripe_subscriptions(event, event_type):
    """The Stripe customers whose subscriptions the event changes from a lane that is not
    theirs alone: a subscription's own events (the customer's lane) and charge.failed (the
    charge's lane, which reads the customer's subscriptions again)."""
    obj = event["data"]["object"]
    if event_type == "charge.failed" or obj.get("object") == "subscription":
        return [ref for ref in (object_id(obj.get("customer")),) if ref]
    return []


def _paypal(event, event_type):
    """(payment refs, [(payer id, e-mail)]) a PayPal event may create or lock."""
    from actions.sync import paypal_map
    resource = event["resource"]
    if event_type in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.SALE.COMPLETED"):
        return (resource["id"],), []
    if event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.SALE.REFUNDED"):
        return paypal_map.refund(resource).payment_refs, []
    if event_type == "PAYMENT.CAPTURE.REVERSED":
        return paypal_map.reversal(resource).payment_refs, []
    if event_type.startswith("CUSTOMER.DISPUTE."):
        return paypal_map.dispute(resource).payment_refs, []
    if event_type.startswith("BILLING.SUBSCRIPTION."):
        subscriber = resource.get("subscriber") or {}
        return (), [(subscriber.get("payer_id"), subscriber.get("email_address"))]
    return (), []
