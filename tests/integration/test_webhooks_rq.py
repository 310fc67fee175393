"""Webhook events applied by real RQ workers against Redis (127.0.0.1:6379), on the app's
database: a backlog of signed Stripe events (payments, and refunds that may arrive before
their payment) is applied exactly once by two long-lived workers, also when one of them is
killed with SIGKILL in the middle of the burst (issue 18)."""
import os
import signal
import time

import pytest

from sqlalchemy import func, select

from actions import ltv
from admin_app import create_app
from models import AuditEvent, Customer, Refund, Transaction, WebhookEvent, db
from tests.conftest import _config
from tests.fakes import stripe_events as se
from tests.redis_support import REDIS_URL, start_worker, worker_env

pytestmark = pytest.mark.slow  # two RQ worker processes, one killed, and polls

CUSTOMERS, PAYMENTS_EACH, REFUND_EVERY = 40, 5, 4


def _burst(stripe_reads):
    """The events of a renewal day in small: every customer pays PAYMENTS_EACH times; every
    REFUND_EVERY-th payment is partly refunded (the refund event is sent first for some)."""
    evts, expected = [], {}
    n = 0
    for c in range(CUSTOMERS):
        cust = stripe_reads.add(se.customer(email=f"member{c}@example.com", name=f"Member {c}"))
        for _ in range(PAYMENTS_EACH):
            n += 1
            amount = 1000 + n
            bt = stripe_reads.add(se.balance_transaction(amount, "usd", 59))
            ch = stripe_reads.add(se.charge(cust["id"], amount, "usd", bt["id"],
                                            email=f"member{c}@example.com", name=f"Member {c}"))
            paid = se.event("charge.succeeded", ch)
            expected[cust["id"]] = expected.get(cust["id"], 0) + amount
            if n % REFUND_EVERY:
                evts.append(paid)
                continue
            refund = se.event("charge.refund.updated", se.refund(ch, 300))
            evts.extend([refund, paid] if n % (2 * REFUND_EVERY) == 0 else [paid, refund])
            expected[cust["id"]] -= 300
    return evts, expected


def _processed():
    db.session.rollback()
    return db.session.scalar(select(func.count(WebhookEvent.id)).where(
        WebhookEvent.status == "processed"))


def _wait(condition, seconds, what, workers):
    deadline = time.monotonic() + seconds
    while not condition():
        for worker in workers:
            assert worker.poll() is None, worker.stdout.read()
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.timeout(360)  # RQ workers, a kill -9 and a restart; slow beside an xdist worker
def test_a_burst_on_two_rq_workers_one_killed_midway_is_applied_exactly_once(
        app, database_url, tmp_path, stripe_reads, redis_queue):
    evts, expected = _burst(stripe_reads)
    settings = dict(STRIPE_WEBHOOK_SECRET=se.SECRET, STRIPE_API_KEY=se.API_KEY,
                    STRIPE_API_BASE=stripe_reads.url, STRIPE_MAX_RETRIES="0",
                    WEBHOOK_RETRY_DELAY="0.5", WEBHOOK_BATCH="20",
                    WEBHOOK_LANE_LOCK_SECONDS="3", WORKER_MAINTENANCE_SECONDS="2")
    web = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                      "RQ_QUEUE": redis_queue, **settings})
    client = web.test_client()
    for evt in evts:  # the backlog arrives before the workers catch up
        response = client.post("/webhooks/stripe", data=se.body(evt),
                               content_type="application/json",
                               headers={"Stripe-Signature": se.sign(se.body(evt))})
        assert response.status_code == 200, response.get_data(as_text=True)
    env = worker_env(database_url, redis_queue, **settings)
    survivor = start_worker(env, name=f"{redis_queue}-survivor")  # holds RQ's scheduler
    time.sleep(1)
    victim = start_worker(env, name=f"{redis_queue}-victim")
    workers = [survivor, victim]
    try:
        _wait(lambda: _processed() >= len(evts) // 4, 120, "the workers never got going",
              workers)
        os.killpg(victim.pid, signal.SIGKILL)  # in the middle of a batch, most likely
        victim.wait(10)
        workers = [survivor]
        _wait(lambda: _processed() == len(evts), 180,
              "not every event was applied after the kill", workers)
    finally:
        for worker in (survivor, victim):
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(20)

    db.session.expire_all()
    stored = db.session.scalars(select(WebhookEvent)).all()
    assert len(stored) == len(evts)
    assert {e.status for e in stored} == {"processed"}
    payments = db.session.scalar(select(func.count(Transaction.id)))
    assert payments == CUSTOMERS * PAYMENTS_EACH
    assert db.session.scalar(select(func.count(Refund.id))) == \
        CUSTOMERS * PAYMENTS_EACH // REFUND_EVERY
    imported = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "payment.imported"))
    assert imported == payments  # each payment applied once, never twice
    values = dict(db.session.execute(select(Customer.stripe_customer_id,
                                            Customer.lifetime_value_cents)).all())
    assert values == expected  # to the cent: nothing lost, nothing doubled
    for customer in db.session.scalars(select(Customer)):
        assert customer.lifetime_value_cents == ltv.actual_ltv(customer.id, "USD")
