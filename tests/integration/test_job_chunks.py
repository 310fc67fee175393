"""Issue 18: a big bulk job on RQ is split into chunks that every worker takes. Two real RQ
workers (Redis on 127.0.0.1:6379) cancel subscriptions at the sandbox's Stripe (loopback):
each subscription is cancelled by exactly one request, the job's counts add up, and the rows
record which worker ran them, both workers having taken a share."""
import time

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import select

from admin_app import create_app, jobs
from models import Job, JobChunk, JobRow, db
from sandbox import Server
from tests import factories
from tests.conftest import _config, make_admin
from tests.job_support import wait_for_job
from tests.redis_support import REDIS_URL, start_worker, worker_env

pytestmark = pytest.mark.slow  # starts worker processes

ROWS, CHUNK = 24, 4


@pytest.fixture
def sandbox_server():
    server = Server().start()
    server.sandbox.record = True
    try:
        yield server
    finally:
        server.stop()


def _subscriptions(sb, n):
    """n active monthly subscriptions at the sandbox's Stripe and in our database."""
    now = sb.now()
    with sb.lock:
        price = sb.stripe.price(amount=3000, currency="usd", interval="month")
        refs = [sb.stripe.subscription(
            customer=sb.stripe.customer(email=f"chunk{i}@example.com", name=f"Chunk {i}")["id"],
            price=price, status="active", start=now - 86400, period_start=now - 86400,
            period_end=now + 29 * 86400)["id"] for i in range(n)]
    plan = factories.plan(price_cents=3000)
    ids = [factories.subscription(factories.customer(), plan, gateway_id=ref).id
           for ref in refs]
    db.session.commit()
    return ids, refs


def _wait_registered(queue_name, names, timeout=30):
    deadline = time.monotonic() + timeout
    conn = Redis.from_url(REDIS_URL)
    while {w.name for w in Worker.all(connection=conn)} < set(names):
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.1)


def test_a_big_job_is_split_into_chunks_both_rq_workers_take_each_row_once(
        app, database_url, tmp_path, redis_queue, sandbox_server):
    sb = sandbox_server.sandbox
    finance = make_admin("finance")
    ids, refs = _subscriptions(sb, ROWS)
    gateway = {**sandbox_server.config(), "STRIPE_MAX_RETRIES": "0", "STRIPE_RATE_LIMIT": "30"}
    env = worker_env(database_url, redis_queue, JOB_CHUNK_ROWS=str(CHUNK),
                     RATE_LIMIT_PREFIX=f"{redis_queue}:ratelimit",
                     **{k: str(v) for k, v in gateway.items()})
    names = [f"{redis_queue}-a", f"{redis_queue}-b"]
    workers = [start_worker(env, name=name) for name in names]
    try:
        _wait_registered(redis_queue, names)
        rq_app = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                             "RQ_QUEUE": redis_queue, "JOB_CHUNK_ROWS": CHUNK})
        with rq_app.app_context():
            job_id = jobs.create_job(finance, "cancel_subscription",
                                     {"view": "subscription", "ids": ids},
                                     {"when": "period_end"}).id
        job = wait_for_job(job_id, timeout=120)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.communicate(timeout=30)

    assert (job.state, job.total, job.done_count, job.failed_count, job.skipped_count) == \
        ("done", ROWS, ROWS, 0, 0)
    chunks = db.session.scalars(select(JobChunk).where(JobChunk.job_id == job_id)).all()
    assert len(chunks) == ROWS // CHUNK and {c.state for c in chunks} == {"done"}
    assert sum(c.rows for c in chunks) == ROWS
    # each subscription cancelled at the gateway by one request, none twice
    cancels = [path.rsplit("/", 1)[-1] for vendor, method, path, params, status, _ in
               sb.exchanges if vendor == "stripe" and method == "POST"
               and path.startswith("/v1/subscriptions/") and status == 200]
    assert sorted(cancels) == sorted(refs)
    assert all(sb.stripe.subscriptions[ref]["cancel_at_period_end"] for ref in refs)
    # every row done once, by one of the two workers, and both took a share
    rows = db.session.scalars(select(JobRow).where(JobRow.job_id == job_id)).all()
    assert {r.state for r in rows} == {"done"} and len(rows) == ROWS
    counts = jobs.worker_counts(job_id)
    assert set(counts) == set(names), counts
    assert sum(counts.values()) == ROWS and min(counts.values()) >= CHUNK, counts
    assert db.session.get(Job, job_id).lease_owner is None


def _keys_per_subscription(sb):
    """How many different idempotency keys changed each subscription at the gateway (two
    would be two cancels; a replayed request reuses its key)."""
    keys = {}
    for signature, *_ in sb.stripe._replies.values():
        method, path, _ = signature
        if method == "POST" and path.startswith("/stripe/v1/subscriptions/"):
            ref = path.rsplit("/", 1)[-1]
            keys[ref] = keys.get(ref, 0) + 1
    return keys


def test_a_worker_killed_in_its_chunk_loses_and_doubles_no_row(
        app, database_url, tmp_path, redis_queue, sandbox_server):
    import os
    import signal
    sb = sandbox_server.sandbox
    finance = make_admin("finance")
    rows = 40
    ids, refs = _subscriptions(sb, rows)
    gateway = {**sandbox_server.config(), "STRIPE_MAX_RETRIES": "0", "STRIPE_RATE_LIMIT": "12",
               "JOB_LEASE_SECONDS": "600"}
    env = worker_env(database_url, redis_queue, JOB_CHUNK_ROWS=str(CHUNK),
                     RATE_LIMIT_PREFIX=f"{redis_queue}:ratelimit",
                     **{k: str(v) for k, v in gateway.items()})
    names = [f"{redis_queue}-a", f"{redis_queue}-b"]
    workers = [start_worker(env, name=name) for name in names]
    try:
        _wait_registered(redis_queue, names)
        rq_app = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                             "RQ_QUEUE": redis_queue, "JOB_CHUNK_ROWS": CHUNK})
        with rq_app.app_context():
            job_id = jobs.create_job(finance, "cancel_subscription",
                                     {"view": "subscription", "ids": ids},
                                     {"when": "period_end"}).id
        deadline = time.monotonic() + 60
        while sum(_keys_per_subscription(sb).values()) < 6:
            assert time.monotonic() < deadline, "the workers never got going"
            time.sleep(0.02)
        os.killpg(workers[0].pid, signal.SIGKILL)  # in the middle of its chunk
        workers[0].wait(10)
        assert not db.session.get(Job, job_id).finished
        again = start_worker(env, "--burst", name=f"{redis_queue}-c")  # resumes the chunk
        job = wait_for_job(job_id, timeout=120)
        again.communicate(timeout=60)
    finally:
        for worker in workers[1:]:
            worker.terminate()
            worker.communicate(timeout=30)

    assert (job.state, job.total, job.done_count, job.failed_count) == ("done", rows, rows, 0)
    assert _keys_per_subscription(sb) == {ref: 1 for ref in refs}
    assert all(sb.stripe.subscriptions[ref]["cancel_at_period_end"] for ref in refs)
    counts = jobs.worker_counts(job_id)
    assert sum(counts.values()) == rows and set(counts) <= {*names, f"{redis_queue}-c"}
    assert {c.state for c in db.session.scalars(
        select(JobChunk).where(JobChunk.job_id == job_id))} == {"done"}
