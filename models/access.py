"""The one rule of who has access: a subscription gives access until the period paid for ends.

The guide: a subscription renewing on the 20th and cancelled on the 10th keeps access until
the 20th, on Stripe and PayPal alike. Profile, lists and filters all ask here.
"""
from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import and_, or_

from models.subscription import Subscription

#: statuses whose access continues while the period paid for lasts
LIVE_STATUSES = ("active", "trialing", "past_due")
DATE_FORMAT = "d MMM y"  # 20 Dec 2026


def access_ends_at(sub):
    """When access ends, or None while the subscription renews (or never gave access).

    Cancelled: access_until (None: ended already). Cancelling at period end or paused: the
    end of the current period (a paused subscription is not charged for the next one).
    """
    if sub.status == "canceled":
        return sub.access_until
    if sub.status in LIVE_STATUSES and (sub.cancel_at_period_end or _unpaid_renewal(sub)):
        return sub.current_period_end
    return None


def _unpaid_renewal(sub):
    """Paused past the end of the period: the next period is not charged (invoices voided)."""
    end = sub.current_period_end
    return bool(sub.paused and end and (sub.pause_resumes_at is None
                                        or sub.pause_resumes_at > end))


def has_access(sub, now):
    """Whether the member may use what the subscription pays for at `now` (aware UTC)."""
    if sub.status not in LIVE_STATUSES and sub.status != "canceled":
        return False
    if sub.status == "canceled" and sub.access_until is None:
        return False
    ends = access_ends_at(sub)
    return ends is None or now < ends


def access_ends_within(now, days):
    """SQL condition: access ends between now and now + days (the list filter)."""
    until = now + timedelta(days=days)
    return or_(
        and_(Subscription.status == "canceled", Subscription.access_until > now,
             Subscription.access_until <= until),
        and_(Subscription.status.in_(LIVE_STATUSES),
             or_(Subscription.cancel_at_period_end.is_(True), Subscription.paused.is_(True)),
             Subscription.current_period_end > now, Subscription.current_period_end <= until))


def format_day(when, locale="en_US"):
    """20 Dec 2026 (in the store locale); "—" for no date."""
    return format_date(when, DATE_FORMAT, locale=locale) if when else "—"


def status_label(sub, now, locale="en_US"):
    """The Status column: "Active — cancels on 20 Dec 2026", "Cancelled — access until
    20 Dec 2026", "Cancelled", "Active — payments paused until 5 Jan 2027", ..."""
    def day(when):
        return format_day(when, locale)

    if sub.status == "canceled":
        if has_access(sub, now):
            return f"Cancelled — access until {day(sub.access_until)}"
        return "Cancelled"
    label = sub.status.replace("_", " ").capitalize()
    if sub.cancel_at_period_end and sub.current_period_end and now >= sub.current_period_end:
        return "Cancelled"  # the gateway ended it at the period end
    if sub.cancel_at_period_end and sub.current_period_end:
        return f"{label} — cancels on {day(sub.current_period_end)}"
    if sub.paused:
        if sub.pause_resumes_at:
            return f"{label} — payments paused until {day(sub.pause_resumes_at)}"
        return f"{label} — payments paused"
    if sub.approval_url:
        return f"{label} — waiting for the customer's approval of a change"
    return label
