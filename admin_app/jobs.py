"""The job runner: a bulk action or large export as a background job, row by row.

create_job() writes the job and queues run_job(job_id). run_job lists the targets into
job_row (once), then runs each pending row through the bulk action's function, committing
the row's outcome and the job's counts together. A job is claimed with a lease (owner +
expiry, renewed with every row): a second runner of the same job returns at once, and a job
whose runner died (lease expired, or its process gone on this host) is resumed by the next
worker start. Resuming never repeats an action: rows already finished are skipped, a row's
action call uses the same request key, and an email row caught "sending" is reported as
unknown instead of being sent again (at most once).

The lease is kept alive by a heartbeat thread while a row runs (one row can outlast the lease:
rate-limit backoff plus gateway timeouts). A runner that finds its lease taken by another
worker stops quietly: the job is not its to finish or fail, the new owner goes on.
"""
import logging
import os
import random
import socket
import threading
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from actions.bulk import BULK_ACTIONS, RowOutcome
from actions.errors import ActionError, GatewayError, InvalidRequest, NotAllowed
from admin_app import queue
from admin_app.composition import deps_from_app
from admin_app.lists import scope_ids
from admin_app.ratelimit import bucket_for
from models import AdminUser, Job, JobRow, db
from models._types import utcnow
from models.job import RETRYABLE_ROW_STATES, row_request_key

log = logging.getLogger(__name__)
RATE_LIMIT_CODES = {"rate_limit", "RATE_LIMIT_REACHED", "rate_limited"}
MAX_RATE_LIMIT_RETRIES = 6
BATCH = 500


class AlreadyStarted(ActionError):
    """The confirmation carrying this request key started a job already (resubmitted)."""

    def __init__(self, job):
        self.job = job
        super().__init__(f"This confirmation was sent before: job #{job.id} ({job.title}) "
                         "was started then; no second job was started.")


def job_for_request(request_key):
    if not request_key:
        return None
    return db.session.scalar(select(Job).where(Job.request_key == request_key))


def create_job(actor, action_name, scope, params=None, *, title=None, retry_of=None,
               request_key=None):
    """Write a queued job (checking the actor may run it at all) and queue it.

    `request_key` is the confirmation form's one-time key: the same form sent again (double
    click, resubmission) raises AlreadyStarted naming the first job instead of starting a
    second one (unique in the database, so also when both arrive at once)."""
    action = BULK_ACTIONS[action_name]
    if actor is not None and not actor.can(action.permission):  # None: the command line
        raise NotAllowed(f"Your role ({actor.role}) does not allow “{action.title}”; "
                         "no job was started.")
    earlier = job_for_request(request_key)
    if earlier is not None:
        raise AlreadyStarted(earlier)
    job = Job(actor_id=getattr(actor, "id", None), action=action_name, title=title or action.title,
              scope=scope, params=params or {}, state="queued", retry_of_id=retry_of,
              request_key=request_key or None)
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        earlier = job_for_request(request_key)
        if earlier is None:
            raise
        raise AlreadyStarted(earlier) from None
    _queue_job(job.id)
    return job


def rq_job_id(job_id):
    """The RQ job id of our job: fixed, so a worker can tell whether Redis still has it."""
    return f"memberdesk-job-{job_id}"


def _queue_job(job_id):
    queue.enqueue_as(rq_job_id(job_id), run_job, job_id)


def retry_failed(actor, job):
    """A new job over the failed (and unknown) rows of `job` only."""
    ids = db.session.scalars(select(JobRow.target_id).where(
        JobRow.job_id == job.id, JobRow.state.in_(RETRYABLE_ROW_STATES))
        .order_by(JobRow.id)).all()
    if not ids:
        raise InvalidRequest("This job has no failed rows to retry.")
    scope = {"view": job.scope.get("view"), "ids": ids}
    return create_job(actor, job.action, scope, dict(job.params),
                      title=f"Retry of job #{job.id}: {job.title}", retry_of=job.id)


def owner_id():
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _owner_is_dead(owner):
    """True if `owner` was a process on this host that no longer exists."""
    host, _, rest = (owner or "").partition(":")
    if host != socket.gethostname() or not rest:
        return False
    pid = int(rest.split(":")[0])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseLost(Exception):
    """Another worker holds this job now: this runner's turn is over (not a failure)."""


def _lease_seconds(app=None):
    return float((app or current_app).config["JOB_LEASE_SECONDS"])


def _lease_until(seconds=None):
    return utcnow() + timedelta(seconds=seconds or _lease_seconds())


def renew_lease(job_id, owner, *, connection=None, seconds=None):
    """Extend `owner`'s lease on the job; False when the lease is no longer theirs."""
    statement = (update(Job).where(Job.id == job_id, Job.lease_owner == owner)
                 .values(lease_until=_lease_until(seconds))
                 .execution_options(synchronize_session=False))
    if connection is not None:
        return connection.execute(statement).rowcount == 1
    renewed = db.session.execute(statement).rowcount == 1
    db.session.commit()
    return renewed


class Heartbeat:
    """Renews a job's lease every third of its length from a thread of its own (its own
    connection), so that a long row never lets the lease lapse; notes when it is lost."""

    def __init__(self, job_id, owner, app=None):
        app = app or current_app._get_current_object()
        self.job_id, self.owner = job_id, owner
        self.seconds = _lease_seconds(app)
        self.engine = db.engine
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _beat(self):
        while not self._stop.wait(max(0.1, self.seconds / 3)):
            try:
                with self.engine.begin() as conn:
                    if not renew_lease(self.job_id, self.owner, connection=conn,
                                       seconds=self.seconds):
                        self.lost = True
                        return
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("job %s: lease heartbeat failed", self.job_id, exc_info=True)


def claim(job_id, owner):
    """Take the job for `owner` if nobody holds a live lease on it; True when taken."""
    job = db.session.get(Job, job_id)
    if job is None or job.finished:
        return False
    now = utcnow()
    free = or_(Job.lease_owner.is_(None), Job.lease_until < now, Job.lease_owner == owner)
    if job.lease_owner and _owner_is_dead(job.lease_owner):
        free = or_(free, Job.lease_owner == job.lease_owner)
    taken = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state.in_(("queued", "running")), free)
        .values(lease_owner=owner, lease_until=_lease_until(), state="running",
                started_at=func.coalesce(Job.started_at, now))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return taken == 1


def run_job(job_id):
    """Run (or resume) a job; what a worker executes."""
    owner = owner_id()
    if not claim(job_id, owner):
        return
    job = db.session.get(Job, job_id, populate_existing=True)
    action = BULK_ACTIONS[job.action]
    try:
        with Heartbeat(job_id, owner) as heartbeat:
            if action.run_whole is not None:
                action.run_whole(deps_from_app(current_app), job)
            else:
                if job.total is None:
                    _list_targets(job, action)
                _run_rows(job_id, action, owner, heartbeat)
    except LeaseLost:  # another worker took the job over: its turn, not a failure
        db.session.rollback()
        log.info("job %s: another worker holds it now; this one stops", job_id)
        return
    except Exception as exc:  # the job says what stopped it; the worker goes on
        db.session.rollback()
        log.exception("job %s stopped", job_id)
        _finish(job_id, owner, "failed", f"The job stopped: {exc}")
        return
    _finish(job_id, owner, "done")


def _list_targets(job, action):
    """Write one pending job_row per target, all at once (a crash leaves none)."""
    ids = scope_ids(job.scope, action.model)
    for start in range(0, len(ids), BATCH):
        db.session.execute(insert(JobRow), [
            {"job_id": job.id, "target_id": target, "state": "pending", "attempts": 0,
             "request_key": row_request_key(job.id, target), "updated_at": utcnow()}
            for target in ids[start:start + BATCH]])
    job.total = len(ids)
    db.session.commit()


def _unfinished_ids(job_id, after_id):
    return db.session.scalars(
        select(JobRow.id).where(JobRow.job_id == job_id, JobRow.id > after_id,
                                JobRow.state.in_(("pending", "running", "sending")))
        .order_by(JobRow.id).limit(BATCH)).all()


def _run_rows(job_id, action, owner, heartbeat):
    last = 0
    while ids := _unfinished_ids(job_id, last):
        for row_id in ids:
            _run_row(job_id, row_id, action, owner, heartbeat)
        last = ids[-1]


def _run_row(job_id, row_id, action, owner, heartbeat):
    row = db.session.get(JobRow, row_id, populate_existing=True)
    job = db.session.get(Job, job_id, populate_existing=True)
    if heartbeat.lost or job.lease_owner != owner:
        raise LeaseLost(job_id)
    if row.state == "sending":  # a send was under way when the worker stopped
        return _record(row, RowOutcome(
            "unknown", "The worker stopped while this email was being sent: it may or may "
                       "not have arrived, so it was not sent again."), 0.0)
    if action.at_most_once:
        row.state = "sending"
        db.session.commit()
    outcome, waited = _attempt(row, job, action)
    _record(db.session.get(JobRow, row_id), outcome, waited)


def _attempt(row, job, action):
    """Call the action for one row, waiting on the gateway's rate limit; 429s back off."""
    actor = db.session.get(AdminUser, job.actor_id)
    deps = deps_from_app(current_app)
    params, target, waited = dict(job.params), row.target_id, 0.0
    gateway = action.gateway_of(target)
    key = _key(row)
    for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
        if gateway:
            bucket = bucket_for(current_app, gateway)
            waited += sum(bucket.acquire() for _ in range(action.requests_per_row))
        try:
            return action.run_row(deps, actor, target, params, key), waited
        except (NotAllowed, InvalidRequest) as exc:
            db.session.rollback()
            return RowOutcome("skipped", exc.message), waited
        except GatewayError as exc:
            db.session.rollback()
            if exc.code not in RATE_LIMIT_CODES or attempt == MAX_RATE_LIMIT_RETRIES:
                return RowOutcome("failed", exc.message), waited
            pause = min(30.0, 0.5 * 2 ** attempt) * (1 + random.random() / 4)
            time.sleep(pause)
            waited += pause
            row = db.session.get(JobRow, row.id)
            row.attempts += 1  # nothing happened at the gateway: the next try has a new key
            db.session.commit()
            key = _key(row)
        except ActionError as exc:
            db.session.rollback()
            return RowOutcome("failed", exc.message), waited
    raise AssertionError("unreachable")


def _key(row):
    return row.request_key if row.attempts == 0 else f"{row.request_key}:{row.attempts}"


_COUNTER = {"done": Job.done_count, "skipped": Job.skipped_count,
            "failed": Job.failed_count, "unknown": Job.failed_count}


def _record(row, outcome, waited):
    """The row's outcome and the job's counts, in one commit (the heartbeat keeps the lease)."""
    row.state, row.message = outcome.state, (outcome.message or "")[:1000]
    column = _COUNTER[outcome.state]
    db.session.execute(update(Job).where(Job.id == row.job_id).values(
        {column.key: column + 1, "rate_wait_seconds": Job.rate_wait_seconds + waited})
        .execution_options(synchronize_session=False))
    db.session.commit()


def _finish(job_id, owner, state, message=None):
    """Mark the job finished, only while `owner` still holds it (a runner whose lease was
    taken over leaves the job to its new owner)."""
    values = {"state": state, "finished_at": utcnow(), "lease_owner": None, "lease_until": None}
    if message:
        values["message"] = message[:2000]
    db.session.execute(update(Job).where(Job.id == job_id, Job.lease_owner == owner)
                       .values(values).execution_options(synchronize_session=False))
    db.session.commit()


LOST_AFTER = timedelta(seconds=30)  # a job queued this long ago with no trace in RQ is lost


def resume_stale_jobs(app):
    """Queue again every unfinished job whose runner is gone, and every queued job Redis
    lost (no longer queued, scheduled or started in RQ's registries): at worker start and
    every maintenance round."""
    now = utcnow()
    jobs = db.session.scalars(select(Job).where(Job.state.in_(("queued", "running")))).all()
    in_process = not app.config.get("REDIS_URL")
    backend = queue.backend()
    for job in jobs:
        dead = job.lease_owner and (job.lease_until < now or _owner_is_dead(job.lease_owner))
        orphan = job.lease_owner is None and (
            in_process  # queued in a stopped process
            or (job.created_at < now - LOST_AFTER and not backend.is_pending(rq_job_id(job.id))))
        if dead or orphan:
            _queue_job(job.id)
    db.session.rollback()


queue.on_worker_start(resume_stale_jobs)
