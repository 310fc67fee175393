"""The jobs page tells the truth (issue 18): a job whose every row failed reads "failed" in
red, some failed reads "partly failed"; rows are numbered within the job and name their
target with a link to it; the row table fills in while the job runs."""
import re

import pytest
from sqlalchemy import select

from admin_app import jobs, queue
from models import Job, JobRow, Transaction, db
from models.job import row_request_key
from tests.conftest import login
from tests.job_support import make_payments, point_stripe_at, wait_for_job


@pytest.fixture
def gateway(app, stripe_bulk):
    point_stripe_at(app, stripe_bulk)
    return stripe_bulk


def _run(actor, ids):
    job = jobs.create_job(actor, "refund_remaining", {"view": "transaction", "ids": ids},
                          {"reason": "other"})
    queue.backend().wait_idle(60)
    return wait_for_job(job.id)


def _refuse(gateway, ids):
    for tx_id in ids:
        ref = db.session.get(Transaction, tx_id).gateway_ref
        gateway.refused[ref] = "Charge has been charged back; cannot issue a refund."


def test_a_job_whose_every_row_failed_reads_failed_not_done(app, client, gateway):
    finance = login(client, "finance")
    ids = make_payments(2)
    _refuse(gateway, ids)
    job = _run(finance, ids)
    assert (job.state, job.failed_count) == ("done", 2)  # it ran to its end...

    listing = client.get("/admin/jobs/").get_data(as_text=True)
    assert re.search(r'badge-danger">failed</span> · 2/2', listing)  # ...and failed
    assert "done · 2/2" not in listing
    page = client.get(f"/admin/jobs/job/{job.id}/").get_data(as_text=True)
    assert re.search(r'class="progress-bar bg-danger"', page)
    assert re.search(r'id="md-job-state">failed<', page)
    status = client.get(f"/admin/jobs/job/{job.id}/status.json").get_json()
    assert (status["outcome"], status["outcome_class"]) == ("failed", "danger")


def test_some_rows_failed_reads_partly_failed(app, client, gateway):
    finance = login(client, "finance")
    ids = make_payments(3)
    _refuse(gateway, ids[:1])
    job = _run(finance, ids)
    page = client.get(f"/admin/jobs/job/{job.id}/").get_data(as_text=True)
    assert re.search(r'id="md-job-state">partly failed<', page)
    assert "progress-bar bg-warning" in page
    listing = client.get("/admin/jobs/").get_data(as_text=True)
    assert 'badge-warning">partly failed</span> · 3/3' in listing


def test_rows_are_numbered_in_the_job_and_link_to_their_customer(app, client, gateway):
    finance = login(client, "finance")
    make_payments(6)  # other payments: the job's rows are not numbered by database id
    first = _run(finance, make_payments(2))
    ids = make_payments(2)
    job = _run(finance, ids)
    page = client.get(f"/admin/jobs/job/{job.id}/").get_data(as_text=True)
    numbers = re.findall(r'<tr class="md-row-done"><td>(\d+)</td>', page)
    assert numbers == ["1", "2"] and first.id != job.id
    for tx_id in ids:
        tx = db.session.get(Transaction, tx_id)
        link = f'href="/admin/customer/?profile={tx.customer_id}"'
        assert link in page and tx.customer.name in page
    assert f"#{db.session.scalar(select(JobRow.id).where(JobRow.job_id == job.id))}<" \
        not in page


def test_the_row_table_fills_in_while_the_job_runs(app, client, gateway):
    finance = login(client, "finance")
    ids = make_payments(3)
    job = Job(actor_id=finance.id, action="refund_remaining", title="Refund", total=3,
              scope={"view": "transaction", "ids": ids}, params={}, state="running",
              done_count=1)
    db.session.add(job)
    db.session.flush()
    for i, tx_id in enumerate(ids):  # the first row is processed, two are still waiting
        db.session.add(JobRow(job_id=job.id, target_id=tx_id, state="done" if i == 0
                              else "pending", request_key=row_request_key(job.id, tx_id),
                              message="Refunded." if i == 0 else None))
    db.session.commit()

    status = client.get(f"/admin/jobs/job/{job.id}/status.json").get_json()

    assert status["outcome"] == "running"
    rows = status["rows_html"]
    assert rows.count('class="md-row-done"') == 1 and rows.count('class="md-row-pending"') == 2
    assert "Refunded." in rows
    assert db.session.get(Transaction, ids[0]).customer.name in rows
