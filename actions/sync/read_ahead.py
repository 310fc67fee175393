"""The gateway reads a batch of webhook events needs, made before the batch's transaction.

A batch is applied in one transaction that locks its events, and the payments, subscriptions
and customers they touch, until it commits. A gateway read inside it (a refund's or
dispute's payment fetched because the child arrived first, a balance transaction, a capture's
order naming its buyer) would hold all those locks for as long as the gateway takes to answer
(seconds; up to its timeout and retries). So the batch's events are looked at first, outside
any transaction and without a lock, and the reads their handlers will need are made then; the
handlers get the answers from `CachedReader`: a child's parent, balance transactions, a
capture's order, the customer a payment or subscription names without an e-mail, the
subscription an invoice pays, a PayPal subscription's plan, a subscription's current state
when two of its states carry the same second (apply_accounts.same_second). A read nobody
foresaw (an event that arrived meanwhile, a parent imported by another lane since) is still
made where it is needed, as before: a cache, not a rule.
"""
import copy
import json
from functools import partial

from sqlalchemy import select

from actions.errors import GatewayError
from actions.sync.stripe_map import object_id
from models import Customer, Plan, Subscription, Transaction, db

#: reader methods whose answers are kept (a GET of one object each)
CACHED = ("balance_transaction", "charge", "refunds_of", "capture", "order", "sale",
          "subscription", "customer", "plan")


class Reads:
    """Answers of gateway reads made ahead, by (method, argument); errors are kept too."""

    def __init__(self):
        self.answers = {}

    def fetch(self, reader, method, ref):
        """The gateway's answer, read now (no transaction is left open meanwhile)."""
        key = (reader.name, method, ref)
        if key not in self.answers:
            db.session.commit()  # only look-ups so far: this ends the read transaction
            try:
                self.answers[key] = (getattr(reader, method)(ref), None)
            except GatewayError as exc:
                self.answers[key] = (None, exc)
        return self.answered(key)

    def answered(self, key):
        value, error = self.answers[key]
        if error is not None:
            raise error
        return copy.deepcopy(value)


class CachedReader:
    """A gateway reader that answers from `reads` what was read ahead, and asks the gateway
    for anything else."""

    def __init__(self, reader, reads):
        self._reader, self._reads = reader, reads

    def __getattr__(self, name):
        method = getattr(self._reader, name)
        if name not in CACHED:
            return method

        def call(ref):
            key = (self._reader.name, name, ref)
            if key in self._reads.answers:
                return self._reads.answered(key)
            return method(ref)
        return call


def read_ahead(deps, rows, reader_for):
    """Make the reads the events `rows` ((gateway, event_type, payload) each) will need;
    returns the Reads. Ends with no transaction open."""
    reads = Reads()
    readers, stamped = {}, set()
    for gateway, event_type, payload in rows:
        if gateway not in readers:
            readers[gateway] = reader_for(gateway, deps)
        reader = readers[gateway]
        if reader is None:
            continue
        try:
            event = json.loads(payload)
            plan = _stripe if gateway == "stripe" else _paypal
            plan(event, event_type, partial(reads.fetch, reader))
            _same_second(gateway, event, event_type, stamped, partial(reads.fetch, reader))
        except GatewayError:
            continue  # the handler meets the same answer (kept) and fails as it would have
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError):
            continue  # a malformed event (a bad amount too): its handler says what is wrong
    db.session.commit()
    return reads


def _same_second(gateway, event, event_type, stamped, fetch):
    """A subscription's current state, when this event's state shares its second with the
    one we hold or with another of the batch's (the handler asks for it then)."""
    from actions.sync import paypal_map, stripe_map
    from actions.sync.apply_accounts import same_second
    if gateway == "stripe" and event_type.startswith("customer.subscription."):
        ref, when = event["data"]["object"].get("id"), stripe_map.ts(event["created"])
    elif gateway == "paypal" and event_type.startswith("BILLING.SUBSCRIPTION.") and \
            event["resource"].get("status") not in ("APPROVAL_PENDING", "APPROVED"):
        ref, when = event["resource"].get("id"), paypal_map.when(event.get("create_time"))
    else:
        return
    if (gateway, ref, when) in stamped or same_second(gateway, ref, when):
        fetch("subscription", ref)
    stamped.add((gateway, ref, when))


def _have_payment(gateway, refs):
    refs = [r for r in refs if r]
    return not refs or db.session.scalar(select(Transaction.id).where(
        Transaction.gateway == gateway, Transaction.gateway_ref.in_(refs)).limit(1)) is not None


def _have_subscription(gateway, ref):
    return not ref or db.session.scalar(select(Subscription.id).where(
        Subscription.gateway == gateway, Subscription.gateway_id == ref).limit(1)) is not None


def _have_customer(ref):
    return not ref or db.session.scalar(select(Customer.id).where(
        Customer.stripe_customer_id == ref).limit(1)) is not None


def _have_plan(ref):
    return not ref or db.session.scalar(select(Plan.id).where(
        Plan.paypal_plan_id == ref).limit(1)) is not None


STRIPE_CHILDREN = ("refund.created", "refund.updated", "charge.refund.updated",
                   "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")


def _stripe(event, event_type, fetch):
    obj = event["data"]["object"]
    _stripe_settlement(obj, fetch)
    if event_type in STRIPE_CHILDREN:  # its payment, when it is not here (yet)
        charge_id = object_id(obj.get("charge"))
        if charge_id and not _have_payment("stripe", (object_id(obj.get("payment_intent")),
                                                      charge_id)):
            charge = fetch("charge", charge_id)
            _stripe_settlement(charge, fetch)
            _stripe_payer(charge, fetch)
    elif event_type == "charge.refunded" and (obj.get("refunds") or {}).get("data") is None:
        for refund in fetch("refunds_of", obj["id"]):
            _stripe_settlement(refund, fetch)
    if event_type == "charge.failed":  # the customer's subscriptions, as Stripe has them now
        from actions.sync.apply_accounts import live_subscriptions
        for ref in live_subscriptions("stripe", object_id(obj.get("customer"))):
            fetch("subscription", ref)
    elif obj.get("object") == "charge":
        _stripe_payer(obj, fetch)
    elif event_type in ("invoice.paid", "invoice.payment_succeeded"):
        _stripe_invoice(obj, fetch)
    elif event_type.startswith("customer.subscription."):
        if not _have_subscription("stripe", obj.get("id")):
            _stripe_customer(object_id(obj.get("customer")), fetch)


def _stripe_customer(ref, fetch):
    """The customer a new payment or subscription names, when we do not have it (its
    details are asked for only when the event does not carry an e-mail)."""
    if ref and not _have_customer(ref):
        fetch("customer", ref)


def _stripe_payer(charge, fetch):
    details = charge.get("billing_details") or {}
    if not (details.get("email") or charge.get("receipt_email")):
        _stripe_customer(object_id(charge.get("customer")), fetch)


def _stripe_invoice(obj, fetch):
    """An invoice paid for a subscription we do not know yet: the subscription (and its
    customer, whom it names without an e-mail)."""
    from actions.sync import stripe_map
    record = stripe_map.invoice(obj, None)
    if record is None:
        return
    sub_ref = record.subscription_ref
    unknown = sub_ref and not _have_subscription("stripe", sub_ref)
    if unknown:
        fetch("subscription", sub_ref)
    if unknown or not record.customer.email:
        _stripe_customer(record.customer.ref, fetch)


def _stripe_settlement(obj, fetch):
    """A charge's or refund's balance transaction, when only its id came."""
    if isinstance(obj.get("balance_transaction"), str) and obj.get("status") == "succeeded":
        fetch("balance_transaction", obj["balance_transaction"])


def _paypal(event, event_type, fetch):
    from actions.sync import paypal_map
    resource = event["resource"]
    if event_type == "PAYMENT.CAPTURE.COMPLETED":
        _paypal_order(resource, fetch)
    elif event_type == "PAYMENT.SALE.COMPLETED":
        _paypal_sale_subscription(resource, fetch)
    elif event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.SALE.REFUNDED"):
        parent = paypal_map.refund(resource).payment_refs[0]
        if parent and not _have_payment("paypal", (parent,)):
            if event_type == "PAYMENT.CAPTURE.REFUNDED":
                _paypal_order(fetch("capture", parent), fetch)
            else:
                _paypal_sale_subscription(fetch("sale", parent), fetch)
    elif event_type.startswith("BILLING.SUBSCRIPTION."):
        if resource.get("status") not in ("APPROVAL_PENDING", "APPROVED"):
            _paypal_plan(resource, fetch)
    elif event_type.startswith("CUSTOMER.DISPUTE."):
        refs = paypal_map.dispute(resource).payment_refs
        parent = next((ref for ref in refs if ref), None)
        if parent and not _have_payment("paypal", refs):
            try:
                capture = fetch("capture", parent)
            except GatewayError:  # not a capture: a subscription's sale
                _paypal_sale_subscription(fetch("sale", parent), fetch)
            else:
                _paypal_order(capture, fetch)


def _paypal_order(capture, fetch):
    """The order naming a capture's buyer."""
    order_id = ((capture.get("supplementary_data") or {}).get("related_ids") or {}) \
        .get("order_id")
    if order_id:
        fetch("order", order_id)


def _paypal_sale_subscription(sale, fetch):
    """The subscription a sale names, when it is not here."""
    ref = sale.get("billing_agreement_id")
    if ref and not _have_subscription("paypal", ref):
        _paypal_plan(fetch("subscription", ref), fetch)


def _paypal_plan(subscription, fetch):
    """The plan of a subscription, when we do not have it (its price is the plan's)."""
    plan_id = subscription.get("plan_id")
    if plan_id and not _have_plan(plan_id):
        fetch("plan", plan_id)
