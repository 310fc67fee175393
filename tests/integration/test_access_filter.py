"""The "Access ends within N days" filter uses the access rule itself (issue 17, finding 4):
for every kind of subscription the SQL filter and access_ends_at agree, on both databases."""
from datetime import datetime, timedelta, timezone
from itertools import product

from sqlalchemy import select

from models import Subscription, db
from models.access import access_ends_at, access_ends_within, has_access
from tests import factories

NOW = datetime(2026, 12, 10, 10, tzinfo=timezone.utc)
DAYS = (-5, 3, 10, 40)


def _at(days):
    return None if days is None else NOW + timedelta(days=days)


def _cases():
    """Live subscriptions: period end x cancel at period end x paused (resuming before or
    after the period end, or not on a date) x a scheduled cancel_at x the end of the period
    paid for where the current one is unpaid (unpaid_from); and cancelled ones."""
    for status, end, at_end, pause, cancel_at, unpaid_from in product(
            ("active", "past_due", "unpaid"), DAYS, (False, True), (None, "open", 5, 20),
            (None, 8, 30), (None, -3, 6)):
        yield dict(status=status, current_period_end=_at(end), cancel_at_period_end=at_end,
                   paused=pause is not None,
                   pause_resumes_at=_at(pause) if isinstance(pause, int) else None,
                   cancel_at=_at(cancel_at), unpaid_from=_at(unpaid_from))
    for until in (None, -1, 3, 20):
        yield dict(status="canceled", access_until=_at(until), canceled_at=NOW,
                   current_period_end=_at(10))


def test_the_filter_and_the_access_rule_agree_on_every_kind_of_subscription(app):
    plan = factories.plan("Silver", 3000)
    customer = factories.customer()
    for fields in _cases():
        factories.subscription(customer, plan, **fields)
    db.session.commit()
    for days in (7, 30):
        until = NOW + timedelta(days=days)
        filtered = set(db.session.scalars(select(Subscription.id).where(
            access_ends_within(NOW, days))))
        expected = set()
        for sub in db.session.scalars(select(Subscription)):
            ends = access_ends_at(sub)
            if has_access(sub, NOW) and ends is not None and ends <= until:
                expected.add(sub.id)
        assert filtered == expected, days
    assert expected  # the cases do include ends in range


def test_a_paused_subscription_that_resumes_before_its_period_ends_is_not_ending(app):
    plan = factories.plan("Silver", 3000)
    sub = factories.subscription(factories.customer(), plan, paused=True,
                                 pause_resumes_at=NOW + timedelta(days=2),
                                 current_period_end=NOW + timedelta(days=5))
    db.session.commit()
    assert access_ends_at(sub) is None and has_access(sub, NOW + timedelta(days=6))
    assert db.session.scalar(select(Subscription.id).where(access_ends_within(NOW, 7))) is None
