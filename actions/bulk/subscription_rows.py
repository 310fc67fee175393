"""What the subscription bulk actions share: one subscription per job row, its change made at
most once, and the confirmation's summary of the selected subscriptions."""
from sqlalchemy import func, or_, select

from actions.bulk.base import RowOutcome, outcome_of
from actions.subscription_changes import existing_request
from models import Subscription, SubscriptionChange, db
from models.sub_state import state_sql
from models.subscription import describe_cycle


def sub_gateway(sub_id):
    return db.session.scalar(select(Subscription.gateway).where(Subscription.id == sub_id))


def once(function, request_key):
    """Call function(request_key) unless this row's change exists already.

    A change left pending (the worker stopped before the gateway's answer was recorded) is
    finished by calling again without the key: the subscription function then repeats the
    pending change with its own idempotency key instead of starting another; one another
    request is still sending is left to it (the row's outcome is then unknown).
    """
    earlier = existing_request(request_key)
    if earlier is None:
        return outcome_of(function(request_key))
    if earlier.status == "pending":
        earlier_id = earlier.id
        db.session.rollback()
        outcome = outcome_of(function(None))
        db.session.rollback()
        if db.session.get(SubscriptionChange, earlier_id).status == "pending":
            # another request is still sending it: its outcome is not known yet
            return RowOutcome("unknown", outcome.message)
        return outcome
    if earlier.status == "failed":
        return RowOutcome("failed", earlier.failure_message or "The gateway refused it.")
    return RowOutcome("done", f"Already {earlier.status.replace('_', ' ')} by this job.")


def subscription_summary(query, deps):
    """Count and current prices per currency and billing cycle of the selected subscriptions
    (a monthly and a yearly price are never added together), and how many the job will
    skip because they are cancelled (models/sub_state.py: the same rule as the actions)."""
    ids = query.with_entities(Subscription.id).order_by(None).subquery()
    S = Subscription
    rows = db.session.execute(
        select(S.currency, S.interval, S.interval_count, func.count(), func.sum(S.price_cents))
        .join(ids, ids.c.id == S.id).group_by(S.currency, S.interval, S.interval_count)
        .order_by(S.currency, S.interval, S.interval_count)).all()
    now = deps.clock()
    ended = db.session.scalar(select(func.count()).select_from(S).join(ids, ids.c.id == S.id)
                              .where(or_(state_sql("cancelling", now),
                                         state_sql("cancelled", now)))) or 0
    count = sum(r[3] for r in rows)
    lines = [(f"In {cur}, {describe_cycle(interval, n_int).lower()}",
              f"{n:,} subscription{'s' * (n != 1)}, {deps.money(total, cur)} per "
              f"{_period(interval, n_int)} now")
             for cur, interval, n_int, n, total in rows]
    notes = [] if not ended else [
        f"{ended:,} of them {'is' if ended == 1 else 'are'} cancelled: the job lists "
        f"{'it' if ended == 1 else 'them'} as skipped and changes nothing there."]
    return {"count": count, "lines": lines, "notes": notes,
            "currencies": sorted({r[0] for r in rows})}


def _period(interval, count):
    return interval if count == 1 else f"{count} {interval}s"
