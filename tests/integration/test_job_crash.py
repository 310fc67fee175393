"""A worker SIGKILLed in the middle of a bulk refund and started again finishes the job with
exactly one refund per payment at the gateway: on RQ (Redis on 127.0.0.1:6379) and in the
in-process worker thread (the demo's path)."""
import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import func, select

from admin_app import create_app, jobs
from models import Job, Refund, db
from tests.conftest import _config, make_admin
from tests.job_support import make_payments, snapshot, wait_for_job
from tests.redis_support import REDIS_URL, ROOT, VENV_BIN, start_worker, worker_env

pytestmark = pytest.mark.slow  # kills job runner processes and polls

ROWS = 40


def _env(database_url, fake, queue_name=None):
    extra = {"STRIPE_API_KEY": fake.api_key, "STRIPE_API_BASE": fake.url, "STRIPE_MAX_RETRIES": "0",
             "STRIPE_RATE_LIMIT": "500", "JOB_LEASE_SECONDS": "600"}
    env = worker_env(database_url, queue_name or "unused", **extra)
    if queue_name:
        env["RATE_LIMIT_PREFIX"] = f"{queue_name}:ratelimit"
    else:
        env.pop("REDIS_URL")
    return env


def _kill_when_some_are_refunded(process, fake, at_least=8, timeout=90):
    deadline = time.monotonic() + timeout
    while sum(fake.refunds.values()) < at_least:
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "the worker never got going"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def _assert_exactly_once(job_id, refs, fake):
    job = wait_for_job(job_id, timeout=120)
    assert (job.state, job.total, job.done_count, job.failed_count) == ("done", ROWS, ROWS, 0)
    assert {ref: fake.refunds[ref] for ref in refs} == {ref: 1 for ref in refs}
    refunded, _ = snapshot()
    assert all(refunded[ref] == 1000 for ref in refs)
    assert db.session.scalar(select(func.count()).select_from(Refund)) == ROWS


def _refs(ids):
    from models import Transaction
    return [db.session.get(Transaction, i).gateway_ref for i in ids]


@pytest.fixture
def slow_gateway(stripe_bulk):
    stripe_bulk.delay = 0.05
    return stripe_bulk


def test_rq_worker_killed_mid_job_and_restarted_refunds_each_payment_once(
        app, database_url, tmp_path, slow_gateway, redis_queue):
    finance = make_admin("finance")
    ids = make_payments(ROWS)
    env = _env(database_url, slow_gateway, redis_queue)
    rq_app = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                         "RQ_QUEUE": redis_queue})
    with rq_app.app_context():
        job_id = jobs.create_job(finance, "refund_remaining",
                                 {"view": "transaction", "ids": ids}, {"reason": "other"}).id
    worker = start_worker(env)
    _kill_when_some_are_refunded(worker, slow_gateway)
    assert db.session.get(Job, job_id).state == "running"

    again = start_worker(env, "--burst")
    output, _ = again.communicate(timeout=180)
    assert again.returncode == 0, output
    _assert_exactly_once(job_id, _refs(ids), slow_gateway)


def test_in_process_worker_killed_mid_job_and_restarted_refunds_each_payment_once(
        app, database_url, slow_gateway):
    finance = make_admin("finance")
    ids = make_payments(ROWS)
    job = Job(actor_id=finance.id, action="refund_remaining", title="Refund",
              scope={"view": "transaction", "ids": ids}, params={"reason": "other"})
    db.session.add(job)
    db.session.commit()  # queued in a process that then stopped: nobody holds it
    env = _env(database_url, slow_gateway)
    command = [str(VENV_BIN / "flask"), "--app", "wsgi", "jobs", "resume", "--wait"]

    first = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _kill_when_some_are_refunded(first, slow_gateway)
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    _assert_exactly_once(job.id, _refs(ids), slow_gateway)
