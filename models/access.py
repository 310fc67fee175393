"""The one rule of who has access: a subscription gives access until the period paid for ends.

The guide: a subscription renewing on the 20th and cancelled on the 10th keeps access until
the 20th, on Stripe and PayPal alike. Profile, lists and filters all ask here.
"""
from datetime import timedelta

from sqlalchemy import and_, case, or_

from models import dates
from models.subscription import Subscription

#: statuses whose access continues while the period paid for lasts
LIVE_STATUSES = ("active", "trialing", "past_due")


def access_ends_at(sub):
    """When access ends, or None while the subscription renews (or never gave access).

    Cancelled: access_until (None: ended already). Live: the earliest of an end the gateway
    scheduled on a date (cancel_at) and, when cancelling at period end or paused past it,
    the end of the current period (a paused subscription is not charged for the next one).
    """
    if sub.status == "canceled":
        return sub.access_until
    if sub.status not in LIVE_STATUSES:
        return None
    ends = [sub.cancel_at] if sub.cancel_at else []
    if sub.current_period_end and (sub.cancel_at_period_end or _unpaid_renewal(sub)):
        ends.append(sub.current_period_end)
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
    return case((S.cancel_at.is_(None), period_end), (period_end.is_(None), S.cancel_at),
                (S.cancel_at < period_end, S.cancel_at), else_=period_end)


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
