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

Big jobs on RQ (more than JOB_CHUNK_ROWS rows) are split into chunks: consecutive slices of
the job's rows, each queued as an RQ job of its own with its own lease (job_chunk), so that
every worker takes a share. The job itself is then held by nobody; the chunk that finishes
last marks it done. Each row records the worker that ran it (per-worker row counts).
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
from actions.owners import owner_id, owner_is_dead
from admin_app import queue
from admin_app.composition import deps_from_app
from admin_app.lists import scope_ids
from admin_app.ratelimit import bucket_for
from models import AdminUser, Job, JobChunk, JobRow, db
from models._types import utcnow
from models.job import RETRYABLE_ROW_STATES, row_request_key

log = logging.getLogger(__name__)
RATE_LIMIT_CODES = {"rate_limit", "RATE_LIMIT_REACHED", "rate_limited"}
MAX_RATE_LIMIT_RETRIES = 6
BATCH = 500
LOST_AFTER = timedelta(seconds=30)  # a job queued this long ago with no trace in RQ is lost


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
    """The RQ job id of our job: fixed, so a worker can tell whether Redis still has it. It
    names the queue: installations (or test runs, or benchmarks) sharing one Redis have the
    same job numbers, and one's RQ job must never pass for the other's (a chunk taken for
    "already queued" because another queue's chunk of that number was left unrun)."""
    return f"{_rq_prefix()}-job-{job_id}"


def _rq_prefix():
    return f"memberdesk-{getattr(queue.backend(), 'queue_name', 'local')}"


def _queue_job(job_id):
    queue.enqueue_as(rq_job_id(job_id), run_job, job_id)


def rq_chunk_id(chunk):
    return f"{rq_job_id(chunk.job_id)}-chunk-{chunk.number}"


def _queue_chunk(chunk):
    queue.enqueue_as(rq_chunk_id(chunk), run_chunk, chunk.id)


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


class LeaseLost(Exception):
    """Another worker holds this job now: this runner's turn is over (not a failure)."""


def _lease_seconds(app=None):
    return float((app or current_app).config["JOB_LEASE_SECONDS"])


def _lease_until(seconds=None):
    return utcnow() + timedelta(seconds=seconds or _lease_seconds())


def renew_lease(job_id, owner, *, connection=None, seconds=None, model=Job):
    """Extend `owner`'s lease on the job (or chunk: `model`); False when the lease is no
    longer theirs."""
    statement = (update(model).where(model.id == job_id, model.lease_owner == owner)
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

    def __init__(self, job_id, owner, app=None, model=Job):
        app = app or current_app._get_current_object()
        self.job_id, self.owner, self.model = job_id, owner, model
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
                                       seconds=self.seconds, model=self.model):
                        self.lost = True
                        return
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("job %s: lease heartbeat failed", self.job_id, exc_info=True)


def _free_for(model, holder, owner, now):
    """The condition under which `owner` may take `holder` (a job or chunk): nobody holds a
    live lease on it (or its holder's process on this host is gone)."""
    free = or_(model.lease_owner.is_(None), model.lease_until < now, model.lease_owner == owner)
    if holder.lease_owner and owner_is_dead(holder.lease_owner):
        free = or_(free, model.lease_owner == holder.lease_owner)
    return free


def claim(job_id, owner):
    """Take the job for `owner` if nobody holds a live lease on it; True when taken."""
    job = db.session.get(Job, job_id)
    if job is None or job.finished:
        return False
    now = utcnow()
    taken = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state.in_(("queued", "running")),
                          _free_for(Job, job, owner, now))
        .values(lease_owner=owner, lease_until=_lease_until(), state="running",
                started_at=func.coalesce(Job.started_at, now))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return taken == 1


class JobLease:
    """A runner's hold on the whole job: checked before every row."""

    def __init__(self, job_id, owner, heartbeat):
        self.job_id, self.owner, self.heartbeat = job_id, owner, heartbeat

    def check(self):
        """The job as it is now; LeaseLost when another runner holds it."""
        job = db.session.get(Job, self.job_id, populate_existing=True)
        if self.heartbeat.lost or job.lease_owner != self.owner:
            raise LeaseLost(self.job_id)
        return job


class ChunkLease(JobLease):
    """A runner's hold on one chunk of a job; JobStopped once the job itself has ended."""

    def __init__(self, chunk_id, job_id, owner, heartbeat):
        super().__init__(job_id, owner, heartbeat)
        self.chunk_id = chunk_id

    def check(self):
        chunk = db.session.get(JobChunk, self.chunk_id, populate_existing=True)
        if self.heartbeat.lost or chunk.lease_owner != self.owner:
            raise LeaseLost(self.job_id)
        job = db.session.get(Job, self.job_id, populate_existing=True)
        if job.finished:
            raise JobStopped(self.job_id)
        return job


class JobStopped(Exception):
    """The job ended (it failed in another chunk): the rest of this chunk is not run."""


def run_job(job_id):
    """Run (or resume) a job; what a worker executes. A big job on RQ is split into chunks
    queued for every worker (run_chunk) instead of being run here."""
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
                if _chunked(job):
                    _hand_out_chunks(job, owner)
                    return
                _run_rows(job_id, action, JobLease(job_id, owner, heartbeat))
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


def _chunk_rows():
    return max(1, int(current_app.config["JOB_CHUNK_ROWS"]))


def _chunked(job):
    """Split the job when several workers can share it (RQ) and it is bigger than a chunk,
    or when it was split already (a resumed job keeps its chunks)."""
    if db.session.scalar(select(JobChunk.id).where(JobChunk.job_id == job.id).limit(1)):
        return True
    return getattr(queue.backend(), "parallel", False) and (job.total or 0) > _chunk_rows()


def _hand_out_chunks(job, owner):
    """Write the job's chunks (once), let go of the job (its chunks have leases of their
    own) and queue every chunk not finished, not held and not already waiting in RQ."""
    if not db.session.scalar(select(JobChunk.id).where(JobChunk.job_id == job.id).limit(1)):
        ids = db.session.scalars(select(JobRow.id).where(JobRow.job_id == job.id)
                                 .order_by(JobRow.id)).all()
        size = _chunk_rows()
        db.session.execute(insert(JobChunk), [
            {"job_id": job.id, "number": n, "first_row_id": part[0], "last_row_id": part[-1],
             "rows": len(part), "state": "queued", "created_at": utcnow()}
            for n, part in enumerate(ids[i:i + size] for i in range(0, len(ids), size))])
    db.session.execute(update(Job).where(Job.id == job.id, Job.lease_owner == owner)
                       .values(lease_owner=None, lease_until=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    _queue_idle_chunks(job.id, lost_after=None)
    _finish_if_complete(job.id)


def _queue_idle_chunks(job_id, lost_after=LOST_AFTER):
    """Queue the job's unfinished chunks whose runner is gone, or that RQ no longer holds
    (`lost_after`: only those created that long ago; None: every one not pending)."""
    now = utcnow()
    backend = queue.backend()
    chunks = db.session.scalars(select(JobChunk).where(
        JobChunk.job_id == job_id, JobChunk.state != "done").order_by(JobChunk.number)).all()
    db.session.rollback()
    for chunk in chunks:
        if chunk.lease_owner:
            if chunk.lease_until < now or owner_is_dead(chunk.lease_owner):
                _queue_chunk(chunk)
        elif (lost_after is None or chunk.created_at < now - lost_after) \
                and not backend.is_pending(rq_chunk_id(chunk)):
            _queue_chunk(chunk)


def run_chunk(chunk_id):
    """Run (or resume) one chunk of a job; the last chunk to finish marks the job done."""
    owner = owner_id()
    chunk = db.session.get(JobChunk, chunk_id)
    if chunk is None or chunk.state == "done":
        db.session.rollback()
        return
    job_id = chunk.job_id
    taken = db.session.execute(
        update(JobChunk).where(JobChunk.id == chunk_id, JobChunk.state != "done",
                               _free_for(JobChunk, chunk, owner, utcnow()))
        .values(lease_owner=owner, lease_until=_lease_until(), state="running")
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if taken != 1:
        return
    chunk = db.session.get(JobChunk, chunk_id, populate_existing=True)
    job = db.session.get(Job, job_id, populate_existing=True)
    action = BULK_ACTIONS[job.action]
    try:
        with Heartbeat(chunk_id, owner, model=JobChunk) as heartbeat:
            if not job.finished:
                _run_rows(job_id, action, ChunkLease(chunk_id, job_id, owner, heartbeat),
                          first=chunk.first_row_id, last=chunk.last_row_id)
    except LeaseLost:
        db.session.rollback()
        log.info("job %s chunk %s: another worker holds it now", job_id, chunk.number)
        return
    except JobStopped:
        db.session.rollback()
    except Exception as exc:  # the job says what stopped it; the worker goes on
        db.session.rollback()
        log.exception("job %s chunk %s stopped", job_id, chunk_id)
        _finish_chunk(chunk_id, owner)
        db.session.execute(update(Job).where(Job.id == job_id, Job.state == "running")
                           .values(state="failed", finished_at=utcnow(),
                                   message=f"The job stopped: {exc}"[:2000])
                           .execution_options(synchronize_session=False))
        db.session.commit()
        return
    _finish_chunk(chunk_id, owner)
    _finish_if_complete(job_id)


def _finish_chunk(chunk_id, owner):
    db.session.execute(update(JobChunk).where(JobChunk.id == chunk_id,
                                              JobChunk.lease_owner == owner)
                       .values(state="done", finished_at=utcnow(), lease_owner=None,
                               lease_until=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _finish_if_complete(job_id):
    """Mark a chunked job done once none of its chunks is left (one statement: of two
    chunks finishing together, the one that commits last sees the other's end)."""
    unfinished = select(JobChunk.id).where(JobChunk.job_id == job_id,
                                           JobChunk.state != "done").exists()
    db.session.execute(update(Job).where(Job.id == job_id, Job.state == "running", ~unfinished)
                       .values(state="done", finished_at=utcnow(), lease_owner=None,
                               lease_until=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def worker_counts(job_id):
    """{worker: rows it recorded} of a job (the rows' outcomes, whichever chunk ran them)."""
    return dict(db.session.execute(
        select(JobRow.worker, func.count()).where(JobRow.job_id == job_id,
                                                  JobRow.worker.is_not(None))
        .group_by(JobRow.worker).order_by(JobRow.worker)).all())


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


def _unfinished_ids(job_id, after_id, last=None):
    query = select(JobRow.id).where(JobRow.job_id == job_id, JobRow.id > after_id,
                                    JobRow.state.in_(("pending", "running", "sending")))
    if last is not None:
        query = query.where(JobRow.id <= last)
    return db.session.scalars(query.order_by(JobRow.id).limit(BATCH)).all()


def _run_rows(job_id, action, lease, first=None, last=None):
    after = (first - 1) if first is not None else 0
    while ids := _unfinished_ids(job_id, after, last):
        for row_id in ids:
            _run_row(row_id, action, lease)
        after = ids[-1]


def _run_row(row_id, action, lease):
    job = lease.check()
    row = db.session.get(JobRow, row_id, populate_existing=True)
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
    """Call the action for one row, waiting on the gateway's rate limit; 429s back off.

    The waits (tokens, back-off) happen outside any transaction: the read transaction the
    lease check and the row's look-ups began is ended first, so a runner waiting seconds for
    its turn at the gateway holds no snapshot (VACUUM) and no table or row lock."""
    deps = deps_from_app(current_app)
    actor_id, params, target, waited = job.actor_id, dict(job.params), row.target_id, 0.0
    gateway = action.gateway_of(target)
    key = _key(row)
    for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
        if gateway:
            db.session.commit()  # nothing is pending: this only ends the read transaction
            bucket = bucket_for(current_app, gateway)
            waited += sum(bucket.acquire() for _ in range(action.requests_per_row))
        actor = db.session.get(AdminUser, actor_id)
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


def worker_name():
    """The RQ worker running this (its name), else host:pid."""
    try:
        from rq import get_current_job
        current = get_current_job()
    except Exception:  # noqa: BLE001 - no RQ job (the in-process thread)
        current = None
    name = getattr(current, "worker_name", None)
    return (name or f"{socket.gethostname()}:{os.getpid()}")[:120]


def _record(row, outcome, waited):
    """The row's outcome and the job's counts, in one commit (the heartbeat keeps the lease)."""
    row.state, row.message = outcome.state, (outcome.message or "")[:1000]
    row.worker = worker_name()
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



def resume_stale_jobs(app):
    """Queue again every unfinished job whose runner is gone, and every queued job Redis
    lost (no longer queued, scheduled or started in RQ's registries): at worker start and
    every maintenance round."""
    now = utcnow()
    jobs = db.session.scalars(select(Job).where(Job.state.in_(("queued", "running")))).all()
    in_process = not app.config.get("REDIS_URL")
    backend = queue.backend()
    chunked = set(db.session.scalars(select(JobChunk.job_id).where(
        JobChunk.job_id.in_([job.id for job in jobs])).distinct()).all()) if jobs else set()
    for job in jobs:
        dead = job.lease_owner and (job.lease_until < now or owner_is_dead(job.lease_owner))
        if job.id in chunked and not dead:  # its chunks are queued and held one by one
            _queue_idle_chunks(job.id)
            _finish_if_complete(job.id)
            continue
        orphan = job.lease_owner is None and (
            in_process  # queued in a stopped process
            or (job.created_at < now - LOST_AFTER and not backend.is_pending(rq_job_id(job.id))))
        if dead or orphan:
            _queue_job(job.id)
    db.session.rollback()


queue.on_worker_start(resume_stale_jobs)
