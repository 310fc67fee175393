"""The one rule of who has access: a subscription gives access until the period paid for ends.

The guide: a subscription renewing on the 20th and cancelled on the 10th keeps access until
the 20th, on Stripe and PayPal alike. Profile, lists and filters all ask here.
"""
from datetime import timedelta

from sqlalchemy import and_, case, or_

from models import dates
from models.base import db
from models.subscription import Subscription
from models.transaction import Transaction

#: statuses whose access continues while the period paid for lasts
LIVE_STATUSES = ("active", "trialing", "past_due")


def access_ends_at(sub):
    """When access ends, or None while the subscription renews (or never gave access).

    Cancelled: access_until (None: ended already). Live: the earliest of an end the gateway
    scheduled on a date (cancel_at) and, when cancelling at period end or paused past it,
    the end of the current period (a paused subscription is not charged for the next one);
    paused in a period nobody paid for (unpaid_from), the end of the last one paid.
    """
    if sub.status == "canceled":
        return sub.access_until
    if sub.status not in LIVE_STATUSES:
        return None
    ends = [sub.cancel_at] if sub.cancel_at else []
    if sub.current_period_end and (sub.cancel_at_period_end or _unpaid_renewal(sub)):
        ends.append(sub.current_period_end)
    if sub.paused and sub.unpaid_from:  # paused again in a period nobody paid for
        ends.append(sub.unpaid_from)
    return min(ends) if ends else None


def _unpaid_renewal(sub):
    """Paused past the end of the period: the next period is not charged (invoices voided)."""
    end = sub.current_period_end
    return bool(sub.paused and end and (sub.pause_resumes_at is None
                                        or sub.pause_resumes_at > end))


def period_moved_unpaid(sub, period_end, paused):
    """Whether a gateway's period end, later than ours, is a period nobody paid for: Stripe
    starts the next period of a subscription whose payments are paused without charging it
    (its invoice is voided). While it stays paused (ours and the gateway's), the period paid
    for is still ours, the one that gives access."""
    return bool(sub.gateway == "stripe" and sub.paused and paused and
                sub.current_period_end is not None and period_end is not None and
                period_end > sub.current_period_end)


def unpaid_from_after(sub, period_end, paused):
    """What Subscription.unpaid_from becomes when the gateway (Stripe) says the period ends at
    `period_end`, with payments `paused` or not. Payments collected again after a pause that
    ran past the end of the period paid for, the gateway's later period is one nobody paid
    for (Stripe voided its invoice): it starts where the paid one ended, unless a payment of
    the subscription came in since. A later period end with payments collected all along is
    a renewal, which clears it."""
    if (paused or period_end is None or sub.current_period_end is None
            or period_end <= sub.current_period_end):
        return sub.unpaid_from
    if sub.gateway == "stripe" and _unpaid_renewal(sub) and not _paid_since(sub):
        return sub.unpaid_from or sub.current_period_end
    return None


def _paid_since(sub):
    """A payment of the subscription taken at or after the end of the period paid for."""
    if sub.id is None:
        return False
    return db.session.query(Transaction.id).filter(
        Transaction.subscription_id == sub.id, Transaction.status == "succeeded",
        Transaction.created_at >= sub.current_period_end).first() is not None


def has_access(sub, now):
    """Whether the member may use what the subscription pays for at `now` (aware UTC)."""
    if sub.status not in LIVE_STATUSES and sub.status != "canceled":
        return False
    if sub.status == "canceled" and sub.access_until is None:
        return False
    ends = access_ends_at(sub)
    return ends is None or now < ends


def _ends_sql():
    """access_ends_at for a live subscription, in SQL (NULL: it renews)."""
    S = Subscription
    period_end = case(
        (and_(S.current_period_end.is_not(None),
              or_(S.cancel_at_period_end.is_(True),
                  and_(S.paused.is_(True),
                       or_(S.pause_resumes_at.is_(None),
                           S.pause_resumes_at > S.current_period_end)))),
         S.current_period_end))
    unpaid = case((and_(S.paused.is_(True), S.unpaid_from.is_not(None)), S.unpaid_from))
    return _least(_least(S.cancel_at, period_end), unpaid)


def _least(a, b):
    """The earlier of two times, either of which may be NULL (NULL: neither is set)."""
    return case((a.is_(None), b), (b.is_(None), a), (a < b, a), else_=b)


def access_ends_within(now, days):
    """SQL condition: access ends between now and now + days (the list filter), by the same
    rule as access_ends_at."""
    until = now + timedelta(days=days)
    ends = _ends_sql()
    return or_(
        and_(Subscription.status == "canceled", Subscription.access_until > now,
             Subscription.access_until <= until),
        and_(Subscription.status.in_(LIVE_STATUSES), ends > now, ends <= until))


def format_day(when, locale="en_US", tz="UTC"):
    """20 Dec 2026 (store locale, store time zone); "—" for no date (models/dates.py)."""
    return dates.format_day(when, locale, tz)
