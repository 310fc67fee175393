"""What an admin sees of a subscription: one state, one label, one filter value, and the
actions that apply to it — the same for Stripe and PayPal (issue 21, items 2 and 3).

The status vocabulary and the access rule are models/access.py's (has_access,
access_ends_at); this module only names the situations they produce. The guide's words for a
period-end cancellation on either gateway: cancelled, access until the period end. So a
Stripe subscription still "active" with cancel_at_period_end and a PayPal one cancelled with
access left are both "Cancelled — access until …", one value of the Status filter.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import and_, false, not_, or_

from models._types import utcnow
from models.access import LIVE_STATUSES, _ends_sql, access_ends_at, has_access
from models.dates import format_day
from models.subscription import Subscription

#: filter value -> what the filter's list says
STATES = {"active": "Active", "trialing": "Trial", "past_due": "Past due",
          "paused": "Payments paused", "cancelling": "Cancelled — access until …",
          "cancelled": "Cancelled", "incomplete": "Incomplete", "unpaid": "Unpaid"}

#: the actions (row action names, without "subscription_") each state offers
ACTIONS = {
    "active": {"price", "plan", "affiliate", "cancel", "pause"},
    # a trial: change what it will cost, or end it; nothing to pause before a first payment
    "trialing": {"price", "plan", "affiliate", "cancel"},
    # a renewal is unpaid: the gateway retries it; the admin may only end it (now) or credit
    # the renewal the retry may still collect
    "past_due": {"affiliate", "cancel"},
    "paused": {"affiliate", "cancel", "resume"},
    # cancelled with access left: only a Stripe period-end cancellation can be withdrawn
    "cancelling": {"undo_cancel"},
    "cancelled": set(),
    "incomplete": {"cancel"},
    "unpaid": {"cancel"},
}
#: the change kinds of actions/subscription_changes.py that are row actions here
KINDS = {"price", "plan", "affiliate", "cancel", "undo_cancel", "pause", "resume", "approval",
         "withdraw"}


def _scheduled(sub):
    return sub.status in LIVE_STATUSES and bool(sub.cancel_at_period_end or sub.cancel_at)


# (instant, {id(sub): (sub, state)}) while rows shown together are judged at one instant
_SHOWN = ContextVar("md_subscription_rows_shown", default=None)


@contextmanager
def one_instant(now=None):
    """Rows shown together (a list page, a profile) judged at one instant, each row's state
    computed once: a subscriptions row asked it once per candidate action (9) plus its status
    and next payment columns (issue 22). Nothing may change a subscription meanwhile."""
    token = _SHOWN.set((now or utcnow(), {}))
    try:
        yield
    finally:
        _SHOWN.reset(token)


def shown_at():
    """The instant rows are judged at: one_instant's while it lasts, else now."""
    shown = _SHOWN.get()
    return utcnow() if shown is None else shown[0]


def state(sub, now):
    """The one state of a subscription at `now` (a key of STATES)."""
    shown = _SHOWN.get()
    if shown is None or shown[0] != now:
        return _state(sub, now)
    found = shown[1].get(id(sub))
    if found is None or found[0] is not sub:
        found = shown[1][id(sub)] = (sub, _state(sub, now))
    return found[1]


def _state(sub, now):
    if sub.status == "canceled":
        return "cancelling" if has_access(sub, now) else "cancelled"
    if _scheduled(sub):
        ends = access_ends_at(sub)
        if ends is not None:
            return "cancelling" if now < ends else "cancelled"
    if sub.status in ("incomplete", "unpaid"):
        return sub.status
    if sub.status not in LIVE_STATUSES:
        return "cancelled"
    return "paused" if sub.paused else sub.status


def ends_on(sub):
    """The day access ends for a cancelled subscription with access left."""
    return sub.access_until if sub.status == "canceled" else access_ends_at(sub)


def label(sub, now, locale="en_US", tz="UTC"):
    """The Status column and the profile: 'Cancelled — access until 20 Dec 2026', 'Past due
    since 25 Nov 2026', 'Payments paused until 5 Jan 2027', 'Trial until 17 Dec 2026', ..."""
    def day(when):
        return format_day(when, locale, tz)

    key = state(sub, now)
    if key == "cancelling":
        text = f"Cancelled — access until {day(ends_on(sub))}"
    elif key == "paused":
        text = (f"Payments paused until {day(sub.pause_resumes_at)}" if sub.pause_resumes_at
                else "Payments paused")
    elif key == "past_due" and sub.current_period_end:
        text = f"Past due since {day(sub.current_period_end)}"
    elif key == "trialing" and sub.current_period_end and sub.current_period_end > now:
        text = f"Trial until {day(sub.current_period_end)}"
    else:
        text = STATES[key]
    if sub.approval_url and key not in ("cancelling", "cancelled"):
        text += " — waiting for the customer's approval of a change"
    return text


#: the name the profile, lists and tests use for the label
status_label = label


def applies(sub, kind, now):
    """Whether the action `kind` ("price", "cancel", ...) applies to the subscription now."""
    if kind not in KINDS:
        return True  # not a subscription row action of this table (its own rule applies)
    key = state(sub, now)
    if kind in ("approval", "withdraw"):
        return bool(sub.approval_url) and key not in ("cancelled",)
    if sub.approval_url and kind in ("price", "plan", "pause"):
        return False
    if kind == "cancel" and key == "cancelling":  # a scheduled end made immediate
        return sub.status != "canceled"
    if kind == "undo_cancel":
        return (key == "cancelling" and sub.gateway == "stripe" and sub.status != "canceled"
                and bool(sub.cancel_at_period_end))
    return kind in ACTIONS[key]


def why_not(sub, kind, now):
    """What the admin is told when an action that does not apply is asked for anyway."""
    key = state(sub, now)
    said = {"cancelling": "is cancelled (access lasts to the end of the paid period)",
            "cancelled": "is cancelled", "past_due": "is past due (a renewal is unpaid)",
            "paused": "has its payments paused", "trialing": "is in its trial",
            "incomplete": "was never paid", "unpaid": "is unpaid"}.get(key, "is active")
    if sub.approval_url and kind in ("price", "plan", "pause"):
        said = "has a change waiting for the customer's approval"
    return f"This subscription {said}; that action does not apply to it. Nothing was changed."


def cancel_choices(sub, now):
    """When a cancellation may take effect: "period_end" only where a paid period (or a
    trial) is left to run out; a past-due, unpaid or never-paid subscription, or one already
    set to end, can only be cancelled now."""
    key = state(sub, now)
    return ("period_end", "now") if key in ("active", "trialing", "paused") else ("now",)


def showing_next_payment(sub, now):
    """The Next Payment Date is shown only where a payment is due: renewing, trialing, or the
    gateway's next retry of a past-due renewal; never for paused or cancelled ones."""
    return state(sub, now) in ("active", "trialing", "past_due")


def price_note(sub, money, day):
    """'→ $59.00 from 2 Jan 2027' beside a subscription's total (what it costs today,
    Subscription.charged_cents) while a new price waits for its renewal, unless the
    subscription has ended; '' otherwise. money(cents, currency) and day(when) format."""
    if not sub.price_scheduled or sub.status == "canceled":
        return ""
    return f"→ {money(sub.price_cents, sub.currency)} from {day(sub.price_from)}"


def state_sql(key, now):
    """SQL condition: the subscription is in state `key` at `now` (the Status filter)."""
    S = Subscription
    ends = _ends_sql()
    scheduled = and_(S.status.in_(LIVE_STATUSES),
                     or_(S.cancel_at_period_end.is_(True), S.cancel_at.is_not(None)),
                     ends.is_not(None))
    if key == "cancelling":
        return or_(and_(S.status == "canceled", S.access_until > now),
                   and_(scheduled, ends > now))
    if key == "cancelled":
        return or_(and_(S.status == "canceled",
                        or_(S.access_until.is_(None), S.access_until <= now)),
                   and_(scheduled, ends <= now),
                   S.status.not_in((*LIVE_STATUSES, "canceled", "incomplete", "unpaid")))
    if key in ("incomplete", "unpaid"):
        return S.status == key
    if key == "paused":
        return and_(S.status.in_(LIVE_STATUSES), S.paused.is_(True), not_(scheduled))
    if key in LIVE_STATUSES:
        return and_(S.status == key, S.paused.is_(False), not_(scheduled))
    return false()
