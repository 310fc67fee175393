"""Job leases (issue 18): a runner whose job was taken over by another worker stops quietly
(the job is neither failed nor released), and a heartbeat keeps the lease alive while one row
outlasts the lease's length."""
import threading

import pytest
from sqlalchemy import update

from admin_app import jobs
from models import Job, JobRow, db
from models._types import utcnow
from tests.conftest import make_admin
from tests.job_support import make_payments, point_stripe_at, wait_for_job

OTHER = "another-host:4242:1"


@pytest.fixture
def gateway(app, stripe_bulk):
    point_stripe_at(app, stripe_bulk)
    return stripe_bulk


def _refs(ids):
    from models import Transaction
    return [db.session.get(Transaction, i).gateway_ref for i in ids]


def _queued_job(actor, ids):
    job = Job(actor_id=actor.id, action="refund_remaining", title="Refund",
              scope={"view": "transaction", "ids": ids}, params={"reason": "other"})
    db.session.add(job)
    db.session.commit()
    return job.id


def test_a_job_taken_over_by_another_worker_is_not_failed_and_the_new_owner_finishes_it(
        app, gateway, monkeypatch):
    finance = make_admin("finance")
    ids = make_payments(6)
    job_id = _queued_job(finance, ids)
    attempt, calls = jobs._attempt, []

    def taken_over_before_the_third_row(row, job, action):
        calls.append(row.id)
        if len(calls) == 3:  # another worker decided this one was gone and took the job
            db.session.execute(update(Job).where(Job.id == job_id).values(
                lease_owner=OTHER, lease_until=jobs._lease_until(600)))
            db.session.commit()
        return attempt(row, job, action)

    monkeypatch.setattr(jobs, "_attempt", taken_over_before_the_third_row)
    jobs.run_job(job_id)

    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == "running" and job.failed_count == 0 and not job.message
    assert job.lease_owner == OTHER  # the new owner's lease is left alone
    assert job.done_count == 3  # the row under way when the lease went was finished
    pending = db.session.scalars(db.select(JobRow.target_id).where(
        JobRow.job_id == job_id, JobRow.state == "pending")).all()
    assert sorted(pending) == sorted(ids[3:])

    # the new owner (here: the lease ran out, as after its death) finishes the rest once
    monkeypatch.setattr(jobs, "_attempt", attempt)
    db.session.execute(update(Job).where(Job.id == job_id).values(
        lease_until=jobs._lease_until(-1)))
    db.session.commit()
    jobs.run_job(job_id)
    job = wait_for_job(job_id)
    assert (job.state, job.done_count, job.failed_count) == ("done", 6, 0)
    assert all(gateway.refunds[ref] == 1 for ref in _refs(ids))


def test_the_lease_is_kept_alive_while_one_row_outlasts_it(app, gateway):
    """The refund's answer is held at the gateway (no fixed delay) until the lease it started
    with has run out and the heartbeat has renewed it: another worker still cannot take the
    job, and the row is refunded once."""
    app.config["JOB_LEASE_SECONDS"] = 2
    gateway.sb.add_fault("stripe", "hold")  # the refund's answer waits for release()
    finance = make_admin("finance")
    ids = make_payments(1)
    job_id = _queued_job(finance, ids)
    runner = threading.Thread(target=_run_in_app, args=(app, job_id))
    runner.start()
    try:
        assert gateway.sb.holding.wait(30), "the row never reached the gateway"
        first_end = wait_for_job(job_id, until=lambda job: job.lease_until).lease_until
        job = wait_for_job(job_id, until=lambda job: utcnow() > first_end)  # past its end
        assert job.lease_until and job.lease_until > first_end, "the lease was not renewed"
        db.session.rollback()
        assert not jobs.claim(job_id, "intruder:1:1"), "the lease lapsed during a long row"
    finally:
        gateway.sb.release()
        runner.join(30)
    job = wait_for_job(job_id)
    assert (job.state, job.done_count, job.failed_count) == ("done", 1, 0)
    assert gateway.refunds[_refs(ids)[0]] == 1


def _run_in_app(app, job_id):
    with app.app_context():
        jobs.run_job(job_id)
        db.session.remove()
