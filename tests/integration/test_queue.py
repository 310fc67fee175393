"""admin_app.queue: the same queued function runs in an RQ worker process and in a thread."""
import subprocess

import pytest

from admin_app import create_app, queue
from tests.conftest import _config
from tests.jobs_probe import write_marker
from tests.redis_support import REDIS_URL, ROOT, VENV_BIN, start_worker, worker_env


def _rq_app(database_url, tmp_path, queue_name):
    return create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                       "RQ_QUEUE": queue_name})


@pytest.mark.slow  # an RQ worker process
def test_rq_job_runs_in_a_flask_worker_process(database_url, tmp_path, redis_queue):
    marker = tmp_path / "marker"
    app = _rq_app(database_url, tmp_path, redis_queue)
    with app.app_context():
        queue.enqueue(write_marker, str(marker), "hello", suffix="!")
    worker = start_worker(worker_env(database_url, redis_queue), "--burst")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    text, queue_name, pid = marker.read_text().split("|")
    assert (text, queue_name) == ("hello!", redis_queue)
    assert int(pid) != __import__("os").getpid()


@pytest.mark.slow  # an RQ worker process
def test_rq_job_runs_in_a_plain_rq_worker(database_url, tmp_path, redis_queue):
    marker = tmp_path / "marker"
    with _rq_app(database_url, tmp_path, redis_queue).app_context():
        queue.enqueue(write_marker, str(marker), "plain")
    result = subprocess.run(
        [str(VENV_BIN / "rq"), "worker", "--burst", "-u", REDIS_URL,
         "-w", "admin_app.queue.MemberdeskWorker", redis_queue],
        cwd=ROOT, env=worker_env(database_url, redis_queue), capture_output=True, text=True,
        timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert marker.read_text().startswith(f"plain|{redis_queue}|")


def test_without_redis_the_job_runs_in_a_thread_of_this_process(app, tmp_path):
    marker = tmp_path / "marker"
    queue.enqueue(write_marker, str(marker), "threaded")
    queue.backend().wait_idle(30)
    text, queue_name, pid = marker.read_text().split("|")
    assert (text, queue_name, int(pid)) == ("threaded", "memberdesk", __import__("os").getpid())


def test_only_module_level_functions_can_be_queued(app):
    with pytest.raises(ValueError, match="module-level"):
        queue.enqueue(lambda: None)


def test_worker_command_refuses_without_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "Set REDIS_URL" in result.output


@pytest.mark.slow  # an RQ worker process
def test_a_job_lost_from_redis_is_queued_again_by_the_next_worker(database_url, tmp_path,
                                                                  redis_queue):
    """Issue 18: a bulk job whose RQ entry Redis lost (flushed, evicted, failed over) is found
    by the next worker start (the job says queued, RQ's registries have no trace) and run."""
    from datetime import timedelta

    from admin_app import jobs
    from models import Job, db
    from rq import Queue
    from redis import Redis
    app = _rq_app(database_url, tmp_path, redis_queue)
    with app.app_context():
        job = jobs.create_job(None, "resend_latest_invoice", {"view": "customer", "ids": []})
        Queue(redis_queue, connection=Redis.from_url(REDIS_URL)).empty()  # Redis lost it
        job.created_at -= timedelta(minutes=5)
        db.session.commit()
        job_id = job.id
    worker = start_worker(worker_env(database_url, redis_queue), "--burst")
    output, _ = worker.communicate(timeout=90)
    assert worker.returncode == 0, output
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.total) == ("done", 0), output
        db.session.remove()
