"""A pause that ran past the end of the period paid for: Stripe voids the renewal's invoice and
moves the period on, unpaid. Payments resumed in that period and paused again, the member's
access ends with the last period paid for, not with the unpaid one (issue 17; found by the
randomized histories, seed 67). On the test's sandbox Stripe, with the panel's own actions."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from actions.subscription_pause import _context as pause_context
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.sync import backfill
from actions.sync.events import reader_for
from actions.sync.sources import StripeSource
from admin_app.composition import deps_from_app
from models import AuditEvent, Transaction, db
from models.access import has_access, unpaid_from_after
from sandbox.control import advance
from tests import factories
from tests.integration.subscription_setup import (RENEWAL, TENTH, configure,  # noqa: F401
                                                  deps_at, finance, make)

CHRISTMAS = datetime(2026, 12, 25, 10, tzinfo=timezone.utc)


def _stripe_invoices(sandbox, ref):
    with sandbox.sandbox.lock:
        return [inv for inv in sandbox.sandbox.stripe.invoices.values()
                if ((inv.get("parent") or {}).get("subscription_details") or {})
                .get("subscription") == ref]


def test_paused_again_in_the_unpaid_period_access_ends_with_the_last_paid_one(
        app, sandbox, finance):
    configure(app, sandbox)
    setup = make("stripe", sandbox)
    pause_subscription(deps_at(app), finance, setup.sub_id)
    advance(sandbox.sandbox, seconds=int((CHRISTMAS - TENTH).total_seconds()), wait=0)
    # at Stripe: the renewal of the 20th was not charged, yet the period moved on
    assert not any(inv["status"] == "paid" for inv in _stripe_invoices(sandbox, setup.ref))
    with sandbox.sandbox.lock:
        item = sandbox.sandbox.stripe.subscriptions[setup.ref]["items"]["data"][0]
        assert item["current_period_start"] == int(RENEWAL.timestamp())

    resume_subscription(deps_at(app, CHRISTMAS), finance, setup.sub_id)
    sub = setup.sub()
    assert sub.unpaid_from == RENEWAL and sub.current_period_end == RENEWAL + timedelta(days=31)
    assert has_access(sub, CHRISTMAS)  # payments collected again: the next renewal charges
    resumed = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "subscription.resume", AuditEvent.outcome == "succeeded"))
    assert (resumed.before["unpaid_from"], resumed.after["unpaid_from"]) == \
        (None, RENEWAL.isoformat())

    later = CHRISTMAS + timedelta(hours=1)
    said = pause_context(sub, deps_at(app, later))["consequences"][0]
    assert "access ends now" in said and "from 20 Dec 2026, was not paid" in said
    pause_subscription(deps_at(app, later), finance, setup.sub_id)
    sub = setup.sub()
    assert not has_access(sub, later + timedelta(seconds=1))
    assert not has_access(sub, datetime(2027, 1, 15, tzinfo=timezone.utc))


def test_a_renewal_clears_it_and_a_payment_since_the_period_end_means_it_was_paid(app):
    plan = factories.plan("Silver", 3000)
    end = datetime(2026, 12, 20, tzinfo=timezone.utc)
    sub = factories.subscription(factories.customer(), plan, paused=True,
                                 current_period_end=end)
    db.session.commit()
    moved = end + timedelta(days=31)
    assert unpaid_from_after(sub, moved, paused=True) is None  # still paused: ours is kept
    assert unpaid_from_after(sub, moved, paused=False) == end  # resumed in the unpaid period
    sub.pause_resumes_at = end - timedelta(days=1)  # resumed before the renewal: it was paid
    assert unpaid_from_after(sub, moved, paused=False) is None
    sub.pause_resumes_at = None
    factories.payment(sub.customer, subscription_id=sub.id,
                      created_at=end + timedelta(minutes=5))
    db.session.commit()
    assert unpaid_from_after(sub, moved, paused=False) is None  # a payment came in since

    renewing = factories.subscription(factories.customer(), plan, current_period_end=moved,
                                      unpaid_from=end)
    assert unpaid_from_after(renewing, moved, paused=False) == end  # no renewal yet
    assert unpaid_from_after(renewing, moved + timedelta(days=31), paused=False) is None


def test_the_next_renewal_paid_access_lasts_its_whole_period_again(app, sandbox, finance):
    configure(app, sandbox)
    setup = make("stripe", sandbox)
    pause_subscription(deps_at(app), finance, setup.sub_id)
    advance(sandbox.sandbox, seconds=int((CHRISTMAS - TENTH).total_seconds()), wait=0)
    resume_subscription(deps_at(app, CHRISTMAS), finance, setup.sub_id)
    assert setup.sub().unpaid_from == RENEWAL
    # the renewal of 20 Jan is charged at Stripe; the sync brings it and the new period in
    advance(sandbox.sandbox, days=30, wait=0)
    now = sandbox.sandbox.now_dt()
    deps = deps_from_app(app, clock=lambda: now)
    summary = backfill.run(StripeSource(deps, reader_for("stripe", deps)))
    assert not summary.errors
    sub = setup.sub()
    renewal = db.session.scalar(select(Transaction).where(Transaction.status == "succeeded"))
    assert renewal.created_at == RENEWAL + timedelta(days=31)
    assert renewal.subscription_id == sub.id  # the sync links it by its paid invoice
    assert sub.unpaid_from is None and sub.current_period_end == datetime(
        2027, 2, 20, 10, tzinfo=timezone.utc)
    pause_subscription(deps_at(app, now), finance, setup.sub_id)
    sub = setup.sub()
    assert has_access(sub, datetime(2027, 2, 19, tzinfo=timezone.utc))  # paid until the 20th
    assert not has_access(sub, datetime(2027, 2, 21, tzinfo=timezone.utc))
