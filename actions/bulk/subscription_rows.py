"""What the subscription bulk actions share: one subscription per job row, its change made at
most once, and the confirmation's summary of the selected subscriptions."""
from sqlalchemy import func, select

from actions.bulk.base import RowOutcome, outcome_of
from actions.subscription_changes import existing_request
from models import Subscription, db

LIVE = ("active", "trialing", "past_due", "paused")


def sub_gateway(sub_id):
    return db.session.scalar(select(Subscription.gateway).where(Subscription.id == sub_id))


def once(function, request_key):
    """Call function(request_key) unless this row's change exists already.

    A change left pending (the worker stopped before the gateway's answer was recorded) is
    finished by calling again without the key: the subscription function then repeats the
    pending change with its own idempotency key instead of starting another.
    """
    earlier = existing_request(request_key)
    if earlier is None:
        return outcome_of(function(request_key))
    if earlier.status == "pending":
        db.session.rollback()
        return outcome_of(function(None))
    if earlier.status == "failed":
        return RowOutcome("failed", earlier.failure_message or "The gateway refused it.")
    return RowOutcome("done", f"Already {earlier.status.replace('_', ' ')} by this job.")


def subscription_summary(query, deps):
    """Count and current prices per currency of the selected subscriptions."""
    ids = query.with_entities(Subscription.id).order_by(None).subquery()
    rows = db.session.execute(
        select(Subscription.currency, func.count(), func.sum(Subscription.price_cents))
        .join(ids, ids.c.id == Subscription.id).group_by(Subscription.currency)
        .order_by(Subscription.currency)).all()
    live = db.session.scalar(select(func.count()).select_from(Subscription)
                             .join(ids, ids.c.id == Subscription.id)
                             .where(Subscription.status.in_(LIVE))) or 0
    count = sum(r[1] for r in rows)
    lines = [(f"In {cur}", f"{n:,} subscription{'s' * (n != 1)}, {deps.money(total, cur)} per "
              "cycle now") for cur, n, total in rows]
    notes = [] if live == count else [
        f"{count - live:,} of them are cancelled or not live: the job lists them as skipped."]
    return {"count": count, "lines": lines, "notes": notes,
            "currencies": [r[0] for r in rows]}
