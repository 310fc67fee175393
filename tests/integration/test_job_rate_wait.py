"""Issue 18: a job runner waits for rate-limit tokens outside any database transaction. A
runner idle in a transaction for the seconds it waits on the gateway's bucket would hold its
snapshot (VACUUM cannot clean behind it) and its table locks (a migration's ALTER waits)
all that time. A real RQ worker against Redis cancels subscriptions at the sandbox's Stripe
at a rate limit that makes every row wait about 2 s; its database sessions, watched in
pg_stat_activity meanwhile, are never idle in a transaction for anything like that long."""
import time

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from admin_app import create_app, jobs
from models import Job, db
from tests.conftest import _config, make_admin
from tests.integration.test_job_chunks import _subscriptions, _wait_registered, sandbox_server  # noqa: F401,E501
from tests.job_support import wait_for_job
from tests.redis_support import (REDIS_URL, longest_idle_in_transaction, start_worker,
                                 stop_workers, worker_env)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROWS = 3
RATE = 0.5  # requests/s: a cancel takes 2 tokens, so each row waits ~2-4 s for its tokens
#: the longest a worker's session may sit idle in a transaction (a gateway call on loopback
#: takes milliseconds; the wait for a token takes 2 s)
IDLE_IN_TRANSACTION_LIMIT = 1.0




def _finished(job_id):
    db.session.expire_all()
    finished = db.session.get(Job, job_id).finished
    db.session.rollback()
    return finished


def test_a_runner_waits_for_rate_limit_tokens_outside_any_transaction(
        app, database_url, tmp_path, redis_queue, sandbox_server):  # noqa: F811
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_stat_activity: PostgreSQL only")
    sb = sandbox_server.sandbox
    finance = make_admin("finance")
    ids, refs = _subscriptions(sb, ROWS)
    app_name = f"{redis_queue}-worker"
    worker_url = make_url(database_url).update_query_dict(
        {"application_name": app_name}).render_as_string(hide_password=False)
    gateway = {**sandbox_server.config(), "STRIPE_MAX_RETRIES": "0",
               "STRIPE_RATE_LIMIT": str(RATE)}
    env = worker_env(worker_url, redis_queue, RATE_LIMIT_PREFIX=f"{redis_queue}:ratelimit",
                     **{k: str(v) for k, v in gateway.items()})
    watch = create_engine(database_url, isolation_level="AUTOCOMMIT")
    worker = start_worker(env, name=f"{redis_queue}-a")
    longest = 0.0
    try:
        _wait_registered(redis_queue, [f"{redis_queue}-a"])
        rq_app = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                             "RQ_QUEUE": redis_queue})
        with rq_app.app_context():
            job_id = jobs.create_job(finance, "cancel_subscription",
                                     {"view": "subscription", "ids": ids},
                                     {"when": "period_end"}).id
        started = time.monotonic()
        while not _finished(job_id):
            longest = max(longest, longest_idle_in_transaction(watch, app_name))
            assert time.monotonic() - started < 120, "the job did not finish"
            time.sleep(0.05)
        job = wait_for_job(job_id, timeout=5)
        elapsed = time.monotonic() - started
    finally:
        stop_workers(worker)
        watch.dispose()

    assert (job.state, job.done_count) == ("done", ROWS)
    assert all(sb.stripe.subscriptions[ref]["cancel_at_period_end"] for ref in refs)
    # the rows did wait for tokens (so the watch had something to see) ...
    assert job.rate_wait_seconds >= 2 * ROWS - 2 and elapsed >= 2 * ROWS - 2, \
        (job.rate_wait_seconds, elapsed)
    # ... and no transaction stayed open while they did
    assert longest < IDLE_IN_TRANSACTION_LIMIT, \
        f"a worker's session sat idle in a transaction for {longest:.2f} s"
