"""Issue 18: two lanes' webhook batches that create the same payments or the same new
customer, applied at once on PostgreSQL, take turns instead of deadlocking or failing an
event. Each test runs two real batches (apply_batch, as the RQ workers do) in two threads on
two database connections.

- A renewal's charge.succeeded travels in the charge's lane, its invoice.paid in the
  customer's. Lane 1 brings renewal A's charge and renewal B's invoice, lane 2 B's charge and
  A's invoice: each batch created one payment and then waited for the other's (PostgreSQL
  ended one batch as a deadlock). Now each batch claims the payments it brings at its start,
  in one order: the second waits for the first's commit and then finds both payments.
- A new customer both lanes pay: the second insert failed on the unique e-mail once the first
  lane committed, and its event was retried 30 s later. Now the new customer is claimed at
  the batch's start (and inserted with ON CONFLICT DO NOTHING): the second lane waits and
  finds it."""
import threading
import time

import pytest
from sqlalchemy import func, select, text

from actions.sync import events, stripe_handlers
from admin_app.composition import deps_from_app
from models import Customer, Transaction, WebhookEvent, db
from tests import factories
from tests.fakes import stripe_events as se

pytestmark = pytest.mark.timeout(90)


def _store(evt, lane):
    return events.store_event("stripe", evt["id"], evt["type"], None, se.body(evt), lane=lane)[0]


def _charge(cust_id, email, amount, pi):
    return se.event("charge.succeeded", se.charge(
        cust_id, amount, "usd", bt=se.balance_transaction(amount, "usd", 30), pi=pi,
        email=email))


class _Batches:
    """apply_batch of each lane in a thread of its own; outcome[lane]: its result or error."""

    def __init__(self, app):
        self.app, self.outcome, self.threads = app, {}, {}

    def start(self, lane):
        def run():
            with self.app.app_context():
                try:
                    self.outcome[lane] = events.apply_batch(deps_from_app(), lane,
                                                            delay=lambda attempts: 30.0)
                except Exception as exc:  # noqa: BLE001 - the test looks at it
                    self.outcome[lane] = exc
                finally:
                    db.session.remove()
        self.threads[lane] = threading.Thread(target=run, daemon=True)
        self.threads[lane].start()

    def join(self, seconds=60):
        for thread in self.threads.values():
            thread.join(seconds)
        assert not any(t.is_alive() for t in self.threads.values()), "a batch never ended"
        return self.outcome


def _both_lanes_apply_all(app):
    """Lanes 1 and 2 applied at once: each processes its two events, nothing is retried."""
    batches = _Batches(app)
    batches.start(1)
    batches.start(2)
    outcome = batches.join()
    assert outcome == {1: {"processed": 2}, 2: {"processed": 2}}, outcome
    assert _events() == {("processed", 1, None)}


def _waiting(count, seconds=20):
    """Wait until `count` sessions wait for a lock."""
    deadline = time.monotonic() + seconds
    while db.session.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                             ).scalar() < count:
        db.session.rollback()
        assert time.monotonic() < deadline, f"fewer than {count} sessions came to wait"
        time.sleep(0.05)
    db.session.rollback()


def _events():
    db.session.expire_all()
    return {(e.status, e.attempts, e.last_error) for e in db.session.scalars(select(WebhookEvent))}


def test_two_lanes_bringing_each_others_renewals_take_turns_instead_of_deadlocking(
        app, database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("two transactions writing at once: PostgreSQL")
    x = factories.customer(email="x@example.com", stripe_customer_id="cus_turns_x")
    db.session.commit()
    for lane, (charged, invoiced) in {1: ("pi_turn_a", "pi_turn_b"),
                                      2: ("pi_turn_b", "pi_turn_a")}.items():
        _store(_charge("cus_turns_x", "x@example.com", 4900, charged), lane)
        _store(se.event("invoice.paid", se.invoice("cus_turns_x", None, invoiced)), lane)
    # each batch applies its charge, then meets the other at its invoice (if both get there)
    both_charged = threading.Barrier(2, timeout=3)
    paid = stripe_handlers.HANDLERS["invoice.paid"]

    def invoice_paid(event, ctx):
        try:
            both_charged.wait()
        except threading.BrokenBarrierError:
            pass  # the other batch waits for this one (as it should): go on alone
        paid(event, ctx)

    monkeypatch.setitem(stripe_handlers.HANDLERS, "invoice.paid", invoice_paid)
    _both_lanes_apply_all(app)
    assert sorted(db.session.scalars(select(Transaction.gateway_ref))) == \
        ["pi_turn_a", "pi_turn_b"]
    assert db.session.get(Customer, x.id).lifetime_value_cents == 9800


def test_a_new_customer_two_lanes_pay_at_once_is_created_once_and_no_event_fails(
        app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two transactions writing at once: PostgreSQL")
    held_customer = factories.customer(email="held@example.com", stripe_customer_id="cus_held")
    held = factories.payment(held_customer, 700, gateway_ref="pi_held_row")
    db.session.commit()
    _store(_charge("cus_both_new", "new@example.com", 1000, "pi_new_1"), 1)
    # lane 1's second event waits for a payment's row the test holds, lane 1 not committed
    _store(se.event("charge.updated", se.charge(
        "cus_held", 700, "usd", bt=se.balance_transaction(700, "usd", 30), pi="pi_held_row",
        email="held@example.com")), 1)
    _store(_charge("cus_both_new", "new@example.com", 2500, "pi_new_2"), 2)
    hold = db.engine.connect()
    hold_tx = hold.begin()
    hold.execute(select(Transaction.id).where(Transaction.id == held.id).with_for_update())
    batches = _Batches(app)
    try:
        batches.start(1)
        _waiting(1)  # lane 1 has inserted the new customer and waits for the held row
        batches.start(2)
        _waiting(2)  # lane 2 reaches the new customer (or its claim) and waits
    finally:
        hold_tx.rollback()
        hold.close()
    outcome = batches.join()

    assert outcome == {1: {"processed": 2}, 2: {"processed": 1}}, outcome
    assert _events() == {("processed", 1, None)}
    new = db.session.scalars(select(Customer).where(Customer.email == "new@example.com")).all()
    assert [(c.stripe_customer_id, c.lifetime_value_cents) for c in new] == \
        [("cus_both_new", 3500)]
    assert db.session.scalar(select(func.count(Transaction.id)).where(
        Transaction.customer_id == new[0].id)) == 2


def test_declined_renewals_and_their_subscription_updates_in_two_lanes_do_not_deadlock(
        app, database_url, stripe_reads, monkeypatch):
    """A declined renewal's charge.failed (the charge's lane) reads the customer's
    subscription again and writes it; its customer.subscription.updated (the customer's lane)
    writes it too. Lane 1 brings A's and B's charge.failed, lane 2 B's and A's updates: each
    batch locked one subscription and then waited for the other's (a deadlock). Now both claim
    the customers' subscriptions at their start."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two transactions writing at once: PostgreSQL")
    app.config.update(STRIPE_API_KEY=se.API_KEY, STRIPE_API_BASE=stripe_reads.url,
                      STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=10)
    plan = factories.plan()
    subs = {}
    for name in ("a", "b"):
        cust = factories.customer(email=f"{name}@example.com",
                                  stripe_customer_id=f"cus_decl_{name}")
        subs[name] = factories.subscription(cust, plan, gateway_id=f"sub_decl_{name}")
        stripe_reads.add(se.subscription(f"cus_decl_{name}", sub_id=f"sub_decl_{name}",
                                         status="past_due"))
    db.session.commit()
    for name in ("a", "b"):
        _store(se.event("charge.failed", se.charge(
            f"cus_decl_{name}", 4900, "usd", status="failed", email=f"{name}@example.com")), 1)
    for name in ("b", "a"):
        _store(se.event("customer.subscription.updated", se.subscription(
            f"cus_decl_{name}", sub_id=f"sub_decl_{name}", status="past_due")), 2)
    # each batch applies its first event, then meets the other before its second
    both_started = threading.Barrier(2, timeout=3)
    seen = threading.local()

    def second_waits(handler):
        def run(event, ctx):
            seen.count = getattr(seen, "count", 0) + 1
            if seen.count == 2:
                try:
                    both_started.wait()
                except threading.BrokenBarrierError:
                    pass  # the other batch waits for this one: go on alone
            handler(event, ctx)
        return run

    for kind in ("charge.failed", "customer.subscription.updated"):
        monkeypatch.setitem(stripe_handlers.HANDLERS, kind,
                            second_waits(stripe_handlers.HANDLERS[kind]))
    _both_lanes_apply_all(app)
    assert {db.session.get(type(sub), sub.id).status for sub in subs.values()} == {"past_due"}
