"""Redis on 127.0.0.1:6379 for tests: a unique queue name per test, keys removed after."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _redis():
    from redis import Redis
    return Redis.from_url(REDIS_URL)


@pytest.fixture
def redis_queue():
    """A fresh queue name on the real Redis; every key naming it is deleted afterwards."""
    conn = _redis()
    conn.ping()
    name = f"mdtest-{uuid.uuid4().hex[:12]}"
    yield name
    for key in conn.scan_iter(f"*{name}*"):
        conn.delete(key)
    conn.close()


def worker_env(database_url, queue_name, **extra):
    """Environment for a worker subprocess that builds its app from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "PAYPAL_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name,
               SECRET_KEY="test-secret", PYTHONPATH=str(ROOT), **extra)
    return env


def start_worker(env, *args, name=None):
    """`flask --app wsgi worker` as a child process in its own process group."""
    command = [str(VENV_BIN / "flask"), "--app", "wsgi", "worker", *args]
    if name:
        command += ["--name", name]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_workers(*workers, grace=20):
    """Stop worker processes started by start_worker, whatever happened: SIGTERM to each
    one's process group, then SIGKILL to any group still there after `grace` seconds (RQ's
    warm shutdown waits for the job in hand). For a test's `finally`: it never raises, so no
    worker outlives its test."""
    import signal
    for worker in workers:
        if worker is not None and worker.poll() is None:
            _signal_group(worker, signal.SIGTERM)
    for worker in workers:
        if worker is None:
            continue
        try:
            worker.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(worker, signal.SIGKILL)
            worker.communicate(timeout=10)


def _signal_group(worker, signum):
    try:
        os.killpg(worker.pid, signum)
    except ProcessLookupError:
        pass

def longest_idle_in_transaction(watch, app_name):
    """Seconds the longest transaction of the sessions named `app_name` (a worker's) has
    been open while idle: PostgreSQL's pg_stat_activity, read on the engine `watch`."""
    with watch.connect() as conn:
        return conn.execute(text(
            "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0) "
            "FROM pg_stat_activity WHERE application_name = :name "
            "AND state = 'idle in transaction'"), {"name": app_name}).scalar()
