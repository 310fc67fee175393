"""Background work: RQ workers when REDIS_URL is set, one in-process worker thread otherwise.

`enqueue(func, *args, **kwargs)` runs the module-level function `func(*args, **kwargs)` inside
an app context, later and elsewhere. Both paths go through `run_job()`, so a job does the same
thing, with the same records, in an `rq worker` process and in the two-command demo.

- With `REDIS_URL`: the job goes to the RQ queue `RQ_QUEUE` (default "memberdesk") by import
  path; a worker started with `flask --app wsgi worker` (or plain
  `rq worker -u $REDIS_URL memberdesk`) builds the app once with create_app() and runs it.
- Without it: a daemon thread of this process takes jobs in order. Jobs still in that
  thread's memory are lost when the process stops; the job records in the database say how
  far each got, and resuming one is safe (see actions/jobs).
"""
import importlib
import logging
import os
import queue as stdlib_queue
import threading
import time

import click
from flask import current_app
from rq import SimpleWorker

log = logging.getLogger(__name__)

_worker_app = None  # the app an RQ worker process runs jobs in (built once)
_worker_pid = None


def init_app(app):
    """Choose the backend from the configuration."""
    if app.config.get("REDIS_URL"):
        app.extensions["memberdesk_queue"] = RQBackend(app.config)
    else:
        app.extensions["memberdesk_queue"] = ThreadBackend(app)
    app.cli.add_command(worker_command)


def enqueue(func, *args, **kwargs):
    """Run module-level `func(*args, **kwargs)` in the background, inside an app context."""
    path = import_path(func)
    return current_app.extensions["memberdesk_queue"].enqueue(path, args, kwargs)


def enqueue_as(job_id, func, *args, **kwargs):
    """enqueue() under a fixed id, so that is_pending(job_id) can tell a lost job."""
    path = import_path(func)
    return current_app.extensions["memberdesk_queue"].enqueue(path, args, kwargs, job_id=job_id)


def enqueue_in(seconds, func, *args, **kwargs):
    """Run `func(*args, **kwargs)` in the background after `seconds` (RQ's scheduler, or a
    timer of this process): a retry waits there, never in a worker."""
    path = import_path(func)
    return current_app.extensions["memberdesk_queue"].enqueue_in(seconds, path, args, kwargs)


def backend():
    return current_app.extensions["memberdesk_queue"]


def import_path(func):
    """"package.module:function" of a module-level function; ValueError for anything else."""
    qualname = getattr(func, "__qualname__", "")
    if not qualname or "." in qualname or "<" in qualname:
        raise ValueError(f"{func!r} is not a module-level function; jobs are queued by import "
                         "path so that another process can run them")
    return f"{func.__module__}:{qualname}"


def resolve(path):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(path, args, kwargs):
    """What an RQ worker runs: the function, in this worker process's app context."""
    return run_in(worker_app(), path, args, kwargs)


def run_in(app, path, args, kwargs):
    """The one way a queued function runs (RQ or thread): in a fresh app context of `app`."""
    with app.app_context():
        return resolve(path)(*args, **kwargs)


_start_hooks = []


def on_worker_start(func):
    """Register func(app) to run when a worker starts (e.g. resume jobs a dead worker left)."""
    _start_hooks.append(func)
    return func


def _run_start_hooks(app):
    for hook in _start_hooks:
        with app.app_context():
            try:
                hook(app)
            except Exception:  # a failed recovery must not keep the worker from starting
                log.exception("worker start hook %s failed", hook.__name__)


def worker_app():
    """The app of this RQ worker process, built once (and its DB pool renewed after a fork)."""
    global _worker_app, _worker_pid
    if _worker_app is None:
        from admin_app import create_app
        set_worker_app(create_app())
    if _worker_pid != os.getpid():  # a forked work horse: never share the parent's sockets
        from models import db
        with _worker_app.app_context():
            db.engine.dispose(close=False)
        _worker_pid = os.getpid()
    return _worker_app


def set_worker_app(app):
    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()


class RQBackend:
    """Jobs go to Redis; `rq worker` processes run them."""

    parallel = True  # several workers: a big job is split into chunks they share

    def __init__(self, config):
        self.url = config["REDIS_URL"]
        self.queue_name = config.get("RQ_QUEUE") or "memberdesk"
        self.timeout = int(config.get("JOB_TIMEOUT") or 6 * 3600)
        self._queue = None

    @property
    def queue(self):
        if self._queue is None:
            from redis import Redis
            from rq import Queue
            self._queue = Queue(self.queue_name, connection=Redis.from_url(self.url),
                                default_timeout=self.timeout)
        return self._queue

    def enqueue(self, path, args, kwargs, job_id=None):
        return self.queue.enqueue("admin_app.queue.run_job", path, list(args), dict(kwargs),
                                  result_ttl=3600, failure_ttl=7 * 24 * 3600, job_id=job_id)

    def enqueue_in(self, seconds, path, args, kwargs):
        from datetime import timedelta
        return self.queue.enqueue_in(timedelta(seconds=max(0.0, seconds)),
                                     "admin_app.queue.run_job", path, list(args), dict(kwargs),
                                     result_ttl=3600, failure_ttl=7 * 24 * 3600)

    @property
    def redis(self):
        return self.queue.connection

    def is_pending(self, job_id):
        """True while RQ has the job queued, scheduled, deferred or running (its registries);
        False when Redis lost it or it ended without running to its end."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job as RQJob
        try:
            status = RQJob.fetch(job_id, connection=self.redis).get_status(refresh=False)
        except NoSuchJobError:
            return False
        return str(getattr(status, "value", status)) in ("queued", "started", "scheduled",
                                                         "deferred")

    def key(self, name):
        return f"memberdesk:{self.queue_name}:{name}"

    def flag(self, name, seconds):
        """Set the flag `name` for `seconds` unless it is set; True if this call set it."""
        return bool(self.redis.set(self.key(name), "1", nx=True, px=int(seconds * 1000)))

    def clear_flag(self, name):
        self.redis.delete(self.key(name))

    def lock(self, name, seconds):
        """A lock shared by every worker (expires after `seconds` unless extended)."""
        return self.redis.lock(self.key(name), timeout=seconds, blocking=False)

    def wait_idle(self, timeout=None):
        """Not available: RQ workers are other processes (tests poll the database)."""
        raise NotImplementedError


class ThreadBackend:
    """One daemon thread of this process runs jobs one after the other."""

    def __init__(self, app):
        self.app = app
        self.jobs = stdlib_queue.Queue()
        self._thread = None
        self._lock = threading.Lock()
        self._flags, self._locks = {}, {}

    def enqueue(self, path, args, kwargs, job_id=None):
        self.start()
        self.jobs.put((path, tuple(args), dict(kwargs)))

    def is_pending(self, job_id):
        return True  # the thread's own queue: a stopped process's jobs are resumed at start

    def enqueue_in(self, seconds, path, args, kwargs):
        timer = threading.Timer(max(0.0, seconds), self.enqueue, (path, args, kwargs))
        timer.daemon = True
        timer.start()
        return timer

    def flag(self, name, seconds):
        with self._lock:
            now = time.monotonic()
            if self._flags.get(name, 0) > now:
                return False
            self._flags[name] = now + seconds
            return True

    def clear_flag(self, name):
        with self._lock:
            self._flags.pop(name, None)

    def lock(self, name, seconds):
        """One thread runs every job here: a lock of this process is enough."""
        with self._lock:
            return self._locks.setdefault(name, _LocalLock())

    def start(self):
        """Start the thread (once); it first resumes what a stopped process left unfinished."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="memberdesk-jobs",
                                                daemon=True)
                self._thread.start()
                self.jobs.put(("admin_app.queue:_run_start_hooks_here", (), {}))

    def _work(self):
        while True:
            path, args, kwargs = self.jobs.get()
            try:
                run_in(self.app, path, args, kwargs)
            except Exception:  # a job's own records say what failed; the thread goes on
                log.exception("background job %s failed", path)
            finally:
                self.jobs.task_done()

    def wait_idle(self, timeout=30):
        """Block until every job queued so far has finished (tests, the CLI)."""
        done = threading.Event()
        threading.Thread(target=lambda: (self.jobs.join(), done.set()), daemon=True).start()
        while not done.wait(1 if timeout is None else timeout):
            if timeout is None:
                continue
            raise TimeoutError("background jobs still running")


class _LocalLock:
    """The shape of redis-py's Lock (acquire/extend/release) for the in-process worker."""

    def __init__(self):
        self._lock = threading.Lock()

    def acquire(self):
        return self._lock.acquire(blocking=False)

    def extend(self, seconds, replace_ttl=False):
        return True

    def release(self):
        self._lock.release()


def _run_start_hooks_here():
    _run_start_hooks(current_app._get_current_object())


class MemberdeskWorker(SimpleWorker):
    """A long-lived RQ worker: it runs jobs in its own process (no fork per job: the app and
    its database connections are built once, so a webhook drain of a few milliseconds costs a
    few milliseconds), and resumes what a dead worker left, at start and every maintenance
    round (WORKER_MAINTENANCE_SECONDS): `rq worker -w admin_app.queue.MemberdeskWorker`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", int(os.environ.get(
            "WORKER_MAINTENANCE_SECONDS") or 60))
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self):
        """RQ waits for a job up to worker_ttl - 15 s (405 s) and runs its maintenance only
        between waits: an idle worker would leave a dead worker's lane alone for minutes.
        Waiting no longer than the maintenance interval keeps the resume on time."""
        return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        _run_start_hooks(worker_app())

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        _run_start_hooks(worker_app())


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--name", default=None, help="Worker name (default: host and process id).")
def worker_command(burst, name):
    """Run an RQ worker for background jobs (needs REDIS_URL)."""
    app = current_app._get_current_object()
    backend = app.extensions["memberdesk_queue"]
    if not isinstance(backend, RQBackend):
        raise click.UsageError("Set REDIS_URL to run RQ workers; without it the web "
                               "process runs jobs in a thread of its own.")
    from models import db
    db.engine.dispose()  # work horses are forked: no connection crosses the fork
    set_worker_app(app)
    worker = MemberdeskWorker([backend.queue], connection=backend.queue.connection, name=name)
    worker.work(burst=burst, with_scheduler=True)  # scheduled retries need RQ's scheduler
