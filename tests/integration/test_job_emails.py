"""Bulk re-send of each customer's latest invoice: real SMTP (aiosmtpd), at most once per row."""
from sqlalchemy import select

from admin_app import jobs, queue
from models import Job, JobRow, db
from models.job import row_request_key
from tests import factories
from tests.conftest import make_admin
from tests.job_support import wait_for_job


def _customers():
    with_invoices = []
    for i in range(3):
        customer = factories.customer(name=f"Reader {i}", email=f"reader{i}@example.com")
        factories.payment(customer, 1000, description="Old course")
        factories.payment(customer, 2000, description=f"Newest course {i}")
        with_invoices.append(customer.id)
    no_invoice = factories.customer(name="Never paid", email="never@example.com").id
    db.session.commit()
    return with_invoices, no_invoice


def _recipients(smtp_server):
    return sorted(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos)


def test_resends_each_latest_invoice_once_and_skips_customers_without(app, smtp_server):
    support = make_admin("support")
    paying, no_invoice = _customers()
    job = jobs.create_job(support, "resend_latest_invoice",
                          {"view": "customer", "ids": paying + [no_invoice]})
    queue.backend().wait_idle(60)
    job = wait_for_job(job.id)
    assert (job.done_count, job.skipped_count, job.failed_count) == (3, 1, 0)
    assert _recipients(smtp_server) == [f"reader{i}@example.com" for i in range(3)]
    assert all("Invoice INV-" in m.message["Subject"] for m in smtp_server.messages)
    skipped = db.session.scalar(select(JobRow).where(JobRow.state == "skipped"))
    assert skipped.target_id == no_invoice and "no invoice" in skipped.message


def test_a_row_caught_sending_is_reported_not_sent_again_and_retry_sends_it(app, smtp_server):
    support = make_admin("support")
    paying, _ = _customers()
    job = Job(actor_id=support.id, action="resend_latest_invoice", title="Re-send",
              scope={"view": "customer", "ids": paying}, params={}, total=3, state="running")
    db.session.add(job)
    db.session.flush()
    for i, target in enumerate(paying):  # the worker died while sending the first one
        db.session.add(JobRow(job_id=job.id, target_id=target, attempts=0,
                              state="sending" if i == 0 else "pending",
                              request_key=row_request_key(job.id, target)))
    db.session.commit()

    jobs.run_job(job.id)
    job = wait_for_job(job.id)
    assert (job.done_count, job.failed_count) == (2, 1)
    unknown = db.session.scalar(select(JobRow).where(JobRow.state == "unknown"))
    assert unknown.target_id == paying[0] and "not sent again" in unknown.message
    assert _recipients(smtp_server) == ["reader1@example.com", "reader2@example.com"]

    retry = jobs.retry_failed(support, job)
    queue.backend().wait_idle(60)
    retry = wait_for_job(retry.id)
    assert (retry.total, retry.done_count) == (1, 1)
    assert _recipients(smtp_server) == [f"reader{i}@example.com" for i in range(3)]
