"""Issue 18: our RQ job ids name the queue. Two installations (or test runs, or benchmark
runs) sharing one Redis number their jobs alike; when a chunk's RQ id was only the job's
number and the chunk's, another queue's chunk of the same numbers, left "started" by a
worker that died, passed for ours: the chunk was never queued and the job never finished
(found when a benchmark run followed one that had been stopped). A real RQ worker against
Redis runs a chunked job to its end beside such a stale RQ job of another queue."""
from types import SimpleNamespace

import pytest
from redis import Redis
from rq import Queue

from admin_app import create_app, jobs
from tests.conftest import _config, make_admin
from tests.integration.test_job_chunks import _subscriptions, _wait_registered, sandbox_server  # noqa: F401,E501
from tests.job_support import wait_for_job
from tests.redis_support import REDIS_URL, start_worker, stop_workers, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROWS, CHUNK = 4, 2


def test_another_queues_stale_rq_job_of_the_same_number_does_not_stop_a_chunk(
        app, database_url, tmp_path, redis_queue, sandbox_server):  # noqa: F811
    sb = sandbox_server.sandbox
    finance = make_admin("finance")
    ids, refs = _subscriptions(sb, ROWS)
    settings = {"REDIS_URL": REDIS_URL, "JOB_CHUNK_ROWS": CHUNK}
    ours = create_app({**_config(database_url, tmp_path), **settings, "RQ_QUEUE": redis_queue})
    theirs = create_app({**_config(database_url, tmp_path), **settings,
                         "RQ_QUEUE": f"{redis_queue}-other"})
    with ours.app_context():
        job_id = jobs.create_job(finance, "cancel_subscription",
                                 {"view": "subscription", "ids": ids},
                                 {"when": "period_end"}).id
    redis = Redis.from_url(REDIS_URL)
    stale_ids = []
    with theirs.app_context():  # the other installation's job of the same number, its
        other = Queue(f"{redis_queue}-other", connection=redis)  # worker long dead
        for number in range(ROWS // CHUNK):
            stale_ids.append(jobs.rq_chunk_id(SimpleNamespace(job_id=job_id, number=number)))
            other.enqueue("admin_app.queue.run_job", "admin_app.jobs:run_chunk", [0], {},
                          job_id=stale_ids[-1]).set_status("started")
    gateway = {**sandbox_server.config(), "STRIPE_MAX_RETRIES": "0", "STRIPE_RATE_LIMIT": "50"}
    env = worker_env(database_url, redis_queue, JOB_CHUNK_ROWS=str(CHUNK),
                     RATE_LIMIT_PREFIX=f"{redis_queue}:ratelimit",
                     **{k: str(v) for k, v in gateway.items()})
    worker = start_worker(env, name=f"{redis_queue}-a")
    try:
        _wait_registered(redis_queue, [f"{redis_queue}-a"])
        job = wait_for_job(job_id, timeout=60)
    finally:
        stop_workers(worker)
        for key in stale_ids:  # named after neither queue before the change
            redis.delete(f"rq:job:{key}")

    assert (job.state, job.done_count) == ("done", ROWS)
    assert all(sb.stripe.subscriptions[ref]["cancel_at_period_end"] for ref in refs)
