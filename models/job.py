"""Background jobs (bulk actions, large exports) and the result of each of their rows."""
from models.base import db
from models._types import BigId, UTCDateTime, utcnow

JOB_STATES = ("queued", "running", "done", "failed")
#: pending: not tried yet; running: its action call started; sending: an email was being
#: handed to the mail server (never re-sent: at most once); done / skipped (a rule said no,
#: with the reason) / failed (the gateway's or mail server's message) / unknown (the worker
#: stopped while sending an email: it may or may not have gone out).
ROW_STATES = ("pending", "running", "sending", "done", "skipped", "failed", "unknown")
FINAL_ROW_STATES = ("done", "skipped", "failed", "unknown")
RETRYABLE_ROW_STATES = ("failed", "unknown")


class Job(db.Model):
    __tablename__ = "job"
    id = db.Column(BigId, primary_key=True)
    # who started it; None: the command line (whoever has shell access to the servers)
    actor_id = db.Column(db.Integer, db.ForeignKey("admin_user.id"), nullable=True, index=True)
    action = db.Column(db.String(40), nullable=False)  # a key of actions.bulk.BULK_ACTIONS
    title = db.Column(db.String(200), nullable=False)
    #: what it acts on: {"model": ..., "ids": [...]} or {"search": ..., "filters": [...]}
    scope = db.Column(db.JSON, nullable=False, default=dict)
    params = db.Column(db.JSON, nullable=False, default=dict)  # the action's plain values
    state = db.Column(db.String(16), nullable=False, default="queued")
    total = db.Column(db.Integer)  # rows, known once the targets are listed
    done_count = db.Column(db.Integer, nullable=False, default=0)
    skipped_count = db.Column(db.Integer, nullable=False, default=0)
    failed_count = db.Column(db.Integer, nullable=False, default=0)
    message = db.Column(db.Text)  # why the whole job failed, or a summary
    output_key = db.Column(db.String(255))  # file store key of an export's file
    output_name = db.Column(db.String(255))
    retry_of_id = db.Column(db.BigInteger, db.ForeignKey("job.id"))
    #: the confirmation form's one-time key: the same form sent twice finds this job
    request_key = db.Column(db.String(64))
    #: who runs it now ("host:pid") and until when that claim holds without a heartbeat
    lease_owner = db.Column(db.String(120))
    lease_until = db.Column(UTCDateTime)
    rate_wait_seconds = db.Column(db.Float, nullable=False, default=0.0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    started_at = db.Column(UTCDateTime)
    finished_at = db.Column(UTCDateTime)

    actor = db.relationship("AdminUser", lazy="joined")
    rows = db.relationship("JobRow", back_populates="job", lazy="dynamic",
                           order_by="JobRow.id")

    @property
    def processed(self):
        return self.done_count + self.skipped_count + self.failed_count

    @property
    def percent(self):
        if not self.total:
            return 100 if self.state in ("done", "failed") else 0
        return min(100, round(100 * self.processed / self.total))

    @property
    def finished(self):
        return self.state in ("done", "failed")

    @property
    def outcome(self):
        """What the job came to, as a user reads it: queued, running, done, partly failed
        (some rows failed) or failed (the job stopped, or every row it tried failed)."""
        if self.state in ("queued", "running"):
            return self.state
        if self.state == "failed" or (self.failed_count and not
                                      (self.done_count + self.skipped_count)):
            return "failed"
        return "partly failed" if self.failed_count else "done"

    __table_args__ = (db.Index("uq_job_request_key", "request_key", unique=True),)

    def __str__(self):
        return f"Job #{self.id} {self.title}"


class JobRow(db.Model):
    __tablename__ = "job_row"
    id = db.Column(BigId, primary_key=True)
    job_id = db.Column(db.BigInteger, db.ForeignKey("job.id"), nullable=False)
    target_id = db.Column(db.BigInteger, nullable=False)
    state = db.Column(db.String(16), nullable=False, default="pending")
    message = db.Column(db.String(1000))
    attempts = db.Column(db.Integer, nullable=False, default=0)
    #: given to the action function: repeating the row never acts twice
    request_key = db.Column(db.String(64), nullable=False, unique=True)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    #: the worker that recorded the row's outcome (its RQ name, or host:pid)
    worker = db.Column(db.String(120))

    job = db.relationship("Job", back_populates="rows")

    __table_args__ = (
        db.UniqueConstraint("job_id", "target_id", name="uq_job_row_target"),
        db.Index("ix_job_row_job_state", "job_id", "state", "id"),
    )


class JobChunk(db.Model):
    """A slice of a big job's rows (ids first_row_id..last_row_id of that job) run as an RQ
    job of its own, so that every worker takes a share; each chunk has its own lease."""

    __tablename__ = "job_chunk"
    id = db.Column(BigId, primary_key=True)
    job_id = db.Column(db.BigInteger, db.ForeignKey("job.id"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    first_row_id = db.Column(db.BigInteger, nullable=False)
    last_row_id = db.Column(db.BigInteger, nullable=False)
    rows = db.Column(db.Integer, nullable=False)
    state = db.Column(db.String(16), nullable=False, default="queued",
                      server_default="queued")  # queued, running, done
    lease_owner = db.Column(db.String(120))
    lease_until = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    finished_at = db.Column(UTCDateTime)

    __table_args__ = (db.UniqueConstraint("job_id", "number", name="uq_job_chunk_number"),)


def row_request_key(job_id, target_id):
    return f"job:{job_id}:row:{target_id}"
