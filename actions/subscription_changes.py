"""What every subscription action shares: the pending record, the gateway call with its key,
the outcome under the row lock, the audit entry, and the retry that never acts twice."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from actions import audit
from actions.base import ActionResult
from actions.errors import GatewayError, InvalidRequest
from actions.gateways.base import SubscriptionResult
from actions.form_checks import plain_int
from actions.keys import new_key
from actions.locks import lock
from actions.owners import owner_id, owner_is_dead
from actions.permissions import require
from models import Subscription, SubscriptionChange, db
from models._types import utcnow
from models.subscription_change import WAITING
from models.access import LIVE_STATUSES
from models.sub_state import applies, shown_at, why_not
from models.transaction import GATEWAYS

KIND_NAMES = {"price": "price change", "plan": "plan change", "affiliate": "affiliate change",
              "cancel": "cancellation", "undo_cancel": "undoing of the cancellation",
              "pause": "pause", "resume": "resumption"}
#: the fields an audit entry shows before and after a change
AUDITED = ("status", "price_cents", "plan_id", "name", "cancel_at_period_end", "access_until",
           "canceled_at", "current_period_end", "paused", "pause_resumes_at", "affiliate_id",
           "approval_url", "next_payment_date", "price_before_cents", "price_from",
           "unpaid_from")


@dataclass(frozen=True)
class Change:
    """One kind of change: what to ask the gateway and how to write its answer.

    call(gateway, sub, change) -> SubscriptionResult (sub and change are read-only there);
    apply(sub, change, result, now) -> message, run under the row lock, before the commit.
    """

    kind: str
    call: Callable[[Any, Subscription, SubscriptionChange], Any]
    apply: Callable[[Subscription, SubscriptionChange, Any, Any], str]
    #: applied(sub, change, state) -> whether the gateway's subscription shows the change;
    #: a repeat of a pending change asks it first where the gateway promises no idempotency
    applied: Callable[[Subscription, SubscriptionChange, Any], bool] | None = None
    #: read(gateway, gateway_id) -> params read at the gateway before the change (merged
    #: over prepare's); asked with no row lock held, the row then re-checked under the lock
    read: Callable[[Any, str], dict] | None = None


#: how many times a gateway read is made again when the row changed while it was read
READ_ATTEMPTS = 3


def act(deps, actor, sub_id, *, permission, request_key, prepare, spec):
    """The path of every subscription action: permission, lock, preconditions (prepare(sub)
    raises InvalidRequest or returns the change's params), pending record, gateway, outcome.

    A change that reads the gateway first (spec.read) reads it with no lock held (webhooks
    and other admins are not kept waiting for the gateway), then takes the lock and checks
    that the row is still what it was when read: changed meanwhile, it is read again (up to
    READ_ATTEMPTS times), then refused."""
    require(actor, permission)
    for _attempt in range(READ_ATTEMPTS):
        seen = read_unlocked(deps, sub_id, request_key, prepare, spec)
        if isinstance(seen, ActionResult):
            return seen
        sub = lock_subscription(sub_id)
        done = existing_request(request_key)
        if done is not None:
            db.session.rollback()
            return duplicate_result(done)
        deps.gateways(sub.gateway)  # not configured: refused before anything is written
        params = prepare(sub)
        require_applies(sub, spec.kind, deps.clock())
        pending = unfinished(sub.id)
        # a pending change is joined with its own params: what we read does not matter
        if seen is None or pending is not None or version(sub, pending) == seen[0]:
            break
        db.session.rollback()  # changed while the gateway was read: read it again
    else:
        raise InvalidRequest(f"This subscription kept changing while {gateway_label(sub)} "
                             "was being asked (webhooks or other admins); open it again. "
                             "Nothing was changed.")
    if seen is not None:
        params = {**params, **seen[1]}
    change_id, duplicate = start(deps, actor, sub, spec.kind, params, request_key)
    if duplicate is not None:
        return duplicate
    return run(deps, actor, change_id, spec, repeat=pending is not None)


def read_unlocked(deps, sub_id, request_key, prepare, spec):
    """What spec.read finds at the gateway, read with no row lock held: (the row's version
    when read, params), None when the change reads nothing, or the ActionResult of a request
    already submitted. The preconditions are checked first: a refusal asks nothing."""
    if spec.read is None:
        return None
    sub = db.session.get(Subscription, sub_id, populate_existing=True)
    if sub is None:
        raise InvalidRequest("This subscription no longer exists.")
    done = existing_request(request_key)
    if done is not None:
        db.session.rollback()
        return duplicate_result(done)
    gateway = deps.gateways(sub.gateway)
    try:
        prepare(sub)
        require_applies(sub, spec.kind, deps.clock())
        seen, ref = version(sub, unfinished(sub.id)), sub.gateway_id
    finally:
        db.session.rollback()  # nothing prepare marked is kept; the transaction ends
    return seen, spec.read(gateway, ref)


def version(sub, pending):
    """What a change read at the gateway depends on: the row's audited fields and the
    change in flight, if any."""
    return snapshot(sub), getattr(pending, "id", None)


def lock_subscription(sub_id):
    return lock(Subscription, sub_id, "This subscription no longer exists.")


def gateway_label(sub):
    return GATEWAYS.get(sub.gateway, sub.gateway)


def summary(sub, *rows, with_gateway=True):
    """The context table of a subscription modal: which subscription, `rows`, the gateway."""
    head = [("Subscription", f"{sub.name} · {sub.customer.name}"), *rows]
    return head + [("Payment system", gateway_label(sub))] if with_gateway else head


def offered(kind):
    """RowAction(available=..., unavailable_message=...) for a subscription action of `kind`:
    shown only in the states it applies to (models/sub_state.py). available(sub, now) takes
    the clock the action function will use (the view passes none: the wall clock, or the one
    instant of the rows shown together, models/sub_state.one_instant)."""
    return {"available": lambda sub, now=None: applies(sub, kind, now or shown_at()),
            "unavailable_message": lambda sub: why_not(sub, kind, utcnow())}


def require_applies(sub, kind, now):
    """The server's half of the rule that hides a button: refuse what the state rules out."""
    if not applies(sub, kind, now):
        raise InvalidRequest(why_not(sub, kind, now))


def require_live(sub, doing):
    """Refuse politely to change a cancelled (or not yet started) subscription."""
    if sub.status == "canceled":
        raise InvalidRequest(f"This subscription is cancelled; {doing} is not possible. "
                             "Nothing was changed.")
    if sub.status not in LIVE_STATUSES:
        raise InvalidRequest(f"This subscription is {sub.status.replace('_', ' ')}; {doing} "
                             "is not possible. Nothing was changed.")


PRORATION_WINDOW = 10 * 60  # seconds: how old the preview a change was confirmed from may be
PRORATION_SKEW = 60  # seconds: a preview this far "ahead" of our clock is still ours


def proration_time(deps, sent):
    """The Unix time a Stripe change is prorated at: the preview's own (`sent`, from the
    form) when it is within PRORATION_WINDOW of now, now when none was sent. Anything else
    (1970, 20 digits, other scripts' digits, an hour old) is refused: Stripe would charge
    something other than what the admin saw."""
    now = int(deps.clock().timestamp())
    if sent is None or sent == "":
        return now
    when = plain_int(sent)
    if when is None or not now - PRORATION_WINDOW <= when <= now + PRORATION_SKEW:
        raise InvalidRequest("The figures this change was confirmed with are out of date or "
                             "not from its preview: open the change again to see the "
                             "current preview. Nothing was changed.")
    return when


#: how long a change waits for the payer's approval before it lapses here (our rule: PayPal
#: publishes no lifetime for a revision's approval link); a lapsed change no longer blocks
#: the next one
APPROVAL_EXPIRY = timedelta(days=7)


def awaiting_change(sub):
    """The change of this subscription waiting for the payer, or None."""
    return db.session.scalar(
        select(SubscriptionChange).where(SubscriptionChange.subscription_id == sub.id,
                                         SubscriptionChange.status == "awaiting_approval")
        .order_by(SubscriptionChange.id.desc()))


def expires_at(change):
    return change.created_at + APPROVAL_EXPIRY


def require_no_approval_pending(sub, deps):
    """A change the payer has not approved yet blocks the next one (its button is hidden)
    until it lapses (APPROVAL_EXPIRY), is withdrawn or is approved. A lapsed one is marked
    expired here (committed with the next change)."""
    if not sub.approval_url:
        return
    now = deps.clock()
    change = awaiting_change(sub)
    if change is None or now < expires_at(change):
        until = f" (until {deps.day(expires_at(change))})" if change is not None else ""
        raise InvalidRequest(f"{gateway_label(sub)} is waiting for the customer's approval of "
                             f"an earlier change{until}; withdraw it first. Nothing was "
                             "changed.")
    change.status, change.completed_at = "expired", now
    sub.approval_url = None


def existing_request(request_key):
    if not request_key:
        return None
    return db.session.scalar(select(SubscriptionChange).where(
        SubscriptionChange.request_key == request_key))


def duplicate_result(change):
    what = KIND_NAMES[change.kind]
    return ActionResult(f"This {what} was already submitted ({change.status.replace('_', ' ')});"
                        " nothing more was done.", "info")


def unfinished(sub_id):
    """A change of this subscription whose gateway answer was lost (still pending)."""
    return db.session.scalar(select(SubscriptionChange).where(
        SubscriptionChange.subscription_id == sub_id, SubscriptionChange.status == "pending")
        .order_by(SubscriptionChange.id))


def sending_lease(gateway):
    """How long a request may be sending a change to `gateway`: a read, the change and a
    read after an unclear answer, each up to the adapter's timeout, and some slack."""
    return timedelta(seconds=6 * float(getattr(gateway, "timeout", 10)) + 30)


def start(deps, actor, sub, kind, params, request_key):
    """Write the pending change (committed before the gateway hears of it, with this
    request's lease on sending it), or take over the one a lost answer left pending:
    repeating it with its own key cannot act twice. One still being sent by another request
    (its lease running) is not sent again: PayPal's verbs take no idempotency key.

    Returns (change id, None) or (None, ActionResult) for a request already submitted or a
    change in flight.
    """
    now = deps.clock()
    lease = now + sending_lease(deps.gateways(sub.gateway))
    pending = unfinished(sub.id)
    if pending is not None:
        if pending.kind != kind or pending.params.get("ask") != params.get("ask"):
            raise InvalidRequest(
                f"A {KIND_NAMES[pending.kind]} of this subscription is still waiting for "
                f"{gateway_label(sub)}'s answer; repeat that one first (it cannot act twice). "
                "Nothing was changed.")
        if pending.sending_until is not None and pending.sending_until > now \
                and not owner_is_dead(pending.sending_owner):
            what, label = KIND_NAMES[pending.kind], gateway_label(sub)
            db.session.rollback()
            return None, ActionResult(
                f"This {what} is being sent to {label} right now by another request; "
                f"nothing more was sent. Its outcome shows here once {label} answers.", "info")
        # the sender's answer was lost, or the sender died: this request finishes it
        pending.sending_until, pending.sending_owner = lease, owner_id()
        change_id = pending.id
        db.session.commit()
        return change_id, None
    change = SubscriptionChange(subscription_id=sub.id, kind=kind, params=params,
                                request_key=request_key or None, status="pending",
                                created_by_id=getattr(actor, "id", None),
                                created_at=now, sending_until=lease,
                                sending_owner=owner_id())
    db.session.add(change)
    try:
        db.session.flush()
        change.gateway_key = new_key("change", change.id)
        audit.record(actor, f"subscription.{kind}", sub, outcome="pending", after=params)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None, duplicate_result(existing_request(request_key))
    return change.id, None


def run(deps, actor, change_id, spec, repeat=False):
    """Call the gateway for a pending change and write what it answered; one commit.

    repeat: the change was pending already and its sender's answer was lost (this request
    holds the lease now). A gateway that promises no idempotency for it (PayPal's
    subscription verbs) is asked first, never sent the change blindly: applied -> recorded;
    not applied -> sent again."""
    change = db.session.get(SubscriptionChange, change_id)
    sub = change.subscription
    gateway = deps.gateways(sub.gateway)
    sending = False
    try:
        if repeat and spec.applied is not None and \
                not getattr(gateway, "promises_idempotency", True):
            state = gateway.get_subscription(sub.gateway_id)
            if spec.applied(sub, change, state):
                return finish(deps, actor, change_id, spec,
                              SubscriptionResult(sub.gateway_id, "succeeded", state,
                                                 raw=state.raw))
        sending = True
        result = spec.call(gateway, sub, change)
    except GatewayError as exc:
        if sending:
            _record_failure(deps, actor, change_id, exc)
        else:  # the read failed: nothing was sent, the change waits for the next request
            release(change_id)
        raise
    except Exception:
        release(change_id)
        raise
    return finish(deps, actor, change_id, spec, result)


def release(change_id):
    """Give up this request's lease on sending a change (nothing known was sent)."""
    db.session.rollback()
    change = db.session.get(SubscriptionChange, change_id, populate_existing=True)
    if change is not None and change.status == "pending":
        change.sending_until = change.sending_owner = None
        db.session.commit()


def finish(deps, actor, change_id, spec, result):
    """Apply the gateway's answer to the subscription under its lock; audit; commit."""
    sub = lock_subscription(db.session.get(SubscriptionChange, change_id).subscription_id)
    change = db.session.get(SubscriptionChange, change_id, populate_existing=True)
    if change.status != "pending":
        db.session.rollback()
        return duplicate_result(change)
    before = snapshot(sub)
    now = deps.clock()
    message = spec.apply(sub, change, result, now)
    change.gateway_ref = getattr(result, "reference", None) if result else None
    if change.status == "pending":
        change.status = "succeeded"
    change.completed_at, change.failure_message = now, None
    change.sending_until = change.sending_owner = None
    # the audit's outcomes are succeeded / failed / pending / denied: waiting for the payer
    # is pending there (the message says why)
    outcome = "pending" if change.status in WAITING else change.status
    audit.record(actor, f"subscription.{change.kind}", sub, outcome=outcome,
                 gateway_ref=change.gateway_ref, before=before, after=snapshot(sub),
                 message=message)
    db.session.commit()
    category = {"awaiting_approval": "info", "awaiting_payment": "warning"}
    return ActionResult(message, category.get(change.status, "success"))


def _record_failure(deps, actor, change_id, exc):
    db.session.rollback()
    sub = lock_subscription(db.session.get(SubscriptionChange, change_id).subscription_id)
    change = db.session.get(SubscriptionChange, change_id, populate_existing=True)
    what = KIND_NAMES[change.kind]
    change.sending_until = change.sending_owner = None  # the next may finish it (reading first)
    if exc.outcome_unknown:
        change.failure_message = exc.message[:500]  # stays pending: the retry finishes it
        exc.message += (f" The {what} stays pending here: do it again to finish it; "
                        "it cannot act twice.")
    else:
        change.status, change.completed_at = "failed", deps.clock()
        change.failure_message = exc.message[:500]
    audit.record(actor, f"subscription.{change.kind}", sub,
                 outcome="pending" if exc.outcome_unknown else "failed",
                 after={"change_id": change.id}, message=exc.message)
    db.session.commit()
    exc.audited = True


def payment_pending(deps, sub, change, result):
    """Stripe held a change invoiced now as a pending update (the payment failed): nothing
    changed here or at Stripe; the message says so, and until when Stripe keeps it."""
    change.status = "awaiting_payment"
    expires = (result.raw.get("pending_update") or {}).get("expires_at")
    until = ""
    if expires:
        until = (" Stripe keeps it as a pending update until "
                 f"{deps.day(datetime.fromtimestamp(int(expires), timezone.utc))}: it applies "
                 "only if the customer pays that invoice by then.")
    return (f"{gateway_label(sub)} could not take the payment for this change (the "
            f"customer's card was declined): nothing changed, the subscription still costs "
            f"{deps.money(sub.price_cents, sub.currency)} per cycle.{until}")


def answered_amount(result, sub, asked_cents):
    """The price per cycle the gateway's answer gives (its state after the change), in the
    subscription's currency; what was asked when the answer does not say."""
    state = getattr(result, "state", None)
    if state is not None and state.amount_cents is not None and \
            (state.currency or sub.currency).upper() == sub.currency.upper():
        return state.amount_cents
    return asked_cents


def snapshot(sub):
    """The audited fields of a subscription, JSON-ready."""
    values = {}
    for name in AUDITED:
        value = getattr(sub, name)
        values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return values
