"""Bulk refunds as background jobs (in-process worker): per-row results, retries that touch
only the failed rows, per-row role checks, confirmation with the typed count, CSRF."""
import re

import pytest
from sqlalchemy import func, select

from admin_app import jobs, queue
from models import Customer, Job, JobRow, Refund, Transaction, db
from tests.conftest import csrf_token, login
from tests.job_support import make_payments, point_stripe_at, snapshot, wait_for_job

BULK = "/admin/transaction/bulk/refund_remaining/"


@pytest.fixture
def gateway(app, stripe_bulk):
    point_stripe_at(app, stripe_bulk)
    return stripe_bulk


def _refs(ids):
    return [db.session.get(Transaction, i).gateway_ref for i in ids]


def _run(actor, ids, **params):
    job = jobs.create_job(actor, "refund_remaining", {"view": "transaction", "ids": ids},
                          {"reason": "requested_by_customer", **params})
    queue.backend().wait_idle(120)
    return wait_for_job(job.id)


def test_200_rows_3_refused_197_refunded_3_reported_nothing_else_changed(app, gateway):
    finance = login(app.test_client(), "finance")
    ids = make_payments(200)
    untouched = make_payments(4)
    refs = _refs(ids)
    for ref in refs[10], refs[99], refs[150]:
        gateway.refused[ref] = f"Charge {ref} has been charged back; cannot issue a refund."
    before_refunded, before_ltv = snapshot()

    job = _run(finance, ids)

    assert (job.state, job.total, job.done_count, job.skipped_count, job.failed_count) == (
        "done", 200, 197, 0, 3)
    failed = db.session.execute(select(JobRow.target_id, JobRow.message).where(
        JobRow.job_id == job.id, JobRow.state == "failed").order_by(JobRow.id)).all()
    assert [t for t, _ in failed] == [ids[10], ids[99], ids[150]]
    assert all("charged back" in message for _, message in failed)
    refunded, ltv = snapshot()
    for ref in refs:
        expected = 0 if ref in gateway.refused else 1000
        assert refunded[ref] == expected
        assert gateway.refunds[ref] == (0 if ref in gateway.refused else 1)
    for ref in _refs(untouched):
        assert refunded[ref] == 0 and gateway.requests[ref] == 0
    assert sum(before_ltv.values()) - sum(ltv.values()) == 197 * 1000
    assert sum(refunded.values()) - sum(before_refunded.values()) == 197 * 1000


def test_retry_touches_only_the_failed_rows(app, gateway):
    finance = login(app.test_client(), "finance")
    ids = make_payments(20)
    refs = _refs(ids)
    for ref in refs[3], refs[7], refs[12]:
        gateway.refused[ref] = "Charge has been charged back; cannot issue a refund."
    first = _run(finance, ids)
    assert first.failed_count == 3
    requests_before = dict(gateway.requests)
    gateway.refused.clear()

    retry = jobs.retry_failed(finance, first)
    queue.backend().wait_idle(60)
    retry = wait_for_job(retry.id)

    assert (retry.total, retry.done_count, retry.failed_count, retry.retry_of_id) == (
        3, 3, 0, first.id)
    assert sorted(r.target_id for r in retry.rows) == sorted([ids[3], ids[7], ids[12]])
    for i, ref in enumerate(refs):
        assert gateway.refunds[ref] == 1
        was_retried = i in (3, 7, 12)
        assert gateway.requests[ref] == requests_before[ref] + (1 if was_retried else 0)


def test_a_job_run_twice_never_refunds_twice(app, gateway):
    finance = login(app.test_client(), "finance")
    ids = make_payments(6)
    job = _run(finance, ids)
    db.session.execute(db.update(Job).where(Job.id == job.id).values(state="running"))
    db.session.execute(db.update(JobRow).where(JobRow.job_id == job.id)
                       .values(state="pending"))  # as if nothing had been recorded
    db.session.commit()
    jobs.run_job(job.id)
    assert all(gateway.refunds[ref] == 1 for ref in _refs(ids))
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 6


def test_rate_limited_rows_back_off_and_succeed(app, gateway, monkeypatch):
    monkeypatch.setattr(jobs.time, "sleep", lambda s: None)
    finance = login(app.test_client(), "finance")
    ids = make_payments(5)
    gateway.rate_limited = 3
    job = _run(finance, ids)
    assert (job.done_count, job.failed_count) == (5, 0)
    assert all(gateway.refunds[ref] == 1 for ref in _refs(ids))
    assert db.session.scalar(select(func.sum(JobRow.attempts)).where(
        JobRow.job_id == job.id)) == 3


def test_each_row_checks_the_role_of_the_jobs_actor_as_of_now(app, gateway):
    finance = login(app.test_client(), "finance")
    ids = make_payments(4)
    job = Job(actor_id=finance.id, action="refund_remaining", title="Refund",
              scope={"view": "transaction", "ids": ids}, params={"reason": "other"})
    db.session.add(job)
    finance.role = "support"  # demoted after the job was queued
    db.session.commit()
    jobs.run_job(job.id)
    job = wait_for_job(job.id)
    assert (job.done_count, job.skipped_count) == (0, 4)
    assert all("support" in row.message for row in job.rows)
    assert sum(gateway.requests.values()) == 0
    assert snapshot()[0] == {ref: 0 for ref in _refs(ids)}


def test_support_cannot_start_a_bulk_refund_even_by_posting(app, client, gateway):
    ids = make_payments(2)
    login(client, "support")
    page = client.get("/admin/transaction/").get_data(as_text=True)
    assert "Refund remaining amount" not in page
    response = client.post(f"{BULK}?ids={ids[0]},{ids[1]}", data={
        "csrf_token": csrf_token(client, "/admin/transaction/"), "expected_count": "2",
        "typed_count": "2", "reason": "other"}, follow_redirects=True)
    assert "does not allow" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def _confirm_page(client, query):
    """The confirmation page, and what its form sends back: the CSRF token, the request key."""
    html = client.get(BULK + query).get_data(as_text=True)
    return html, {name: re.search(rf'name="{name}"[^>]*value="([^"]+)"', html).group(1)
                  for name in ("csrf_token", "request_key")}


def test_ticked_rows_confirmation_shows_totals_and_wants_the_typed_count(app, client, gateway):
    ids = make_payments(3)
    login(client, "finance")
    response = client.post("/admin/transaction/action/", data={
        "action": "refund_remaining", "rowid": [str(i) for i in ids],
        "csrf_token": csrf_token(client, "/admin/transaction/")})
    assert response.status_code == 302 and "/bulk/refund_remaining/" in response.location
    html, hidden = _confirm_page(client, response.location.split("/bulk/refund_remaining/")[1])
    assert "$30.00 over 3 payments" in html
    assert "−$30.00 across 2 customers" in html  # two payments per customer
    data = {**hidden, "expected_count": "3", "typed_count": "2", "reason": "other"}
    wrong = client.post(response.location, data=data, follow_redirects=True)
    assert "Type 3" in wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    started = client.post(response.location, data={**data, "typed_count": "3"})
    assert "/admin/jobs/job/" in started.location
    queue.backend().wait_idle(60)
    job = wait_for_job(db.session.scalar(select(Job.id)))
    assert job.done_count == 3 and all(gateway.refunds[r] == 1 for r in _refs(ids))


def test_select_all_matching_acts_on_the_whole_search_after_confirming_the_count(
        app, client, gateway):
    ids = make_payments(6)
    target = db.session.get(Transaction, ids[0]).customer
    db.session.get(Customer, target.id).name = "Zelda Searchable"
    db.session.commit()
    login(client, "owner")
    listing = client.get("/admin/transaction/?search=Zelda").get_data(as_text=True)
    link = re.search(r'href="([^"]*bulk/refund_remaining/[^"]*all=1[^"]*)"', listing)
    url = link.group(1).replace("&amp;", "&")
    html, hidden = _confirm_page(client, url.split("/bulk/refund_remaining/")[1])
    assert "All <strong>2</strong> rows matching" in html
    client.post(url, data={**hidden, "expected_count": "2", "typed_count": "2",
                           "reason": "other"})
    queue.backend().wait_idle(60)
    job = wait_for_job(db.session.scalar(select(Job.id)))
    assert job.total == 2 and job.done_count == 2
    assert snapshot()[0] == {ref: (1000 if i < 2 else 0) for i, ref in enumerate(_refs(ids))}


@pytest.mark.parametrize("url, data", [
    (BULK + "?ids=1", {"expected_count": "1", "typed_count": "1", "reason": "other"}),
    ("/admin/customer/bulk/resend_latest_invoice/?ids=1", {"expected_count": "1"}),
    ("/admin/transaction/action/", {"action": "refund_remaining", "rowid": "1"}),
    ("/admin/customer/action/", {"action": "resend_latest_invoice", "rowid": "1"}),
    ("/admin/jobs/job/1/retry", {}),
])
def test_every_bulk_form_needs_its_csrf_token(app, client, gateway, url, data):
    make_payments(2)
    login(client, "owner")
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_jobs_page_lists_own_jobs_only_for_support(app, gateway):
    finance_client, support_client = app.test_client(), app.test_client()
    finance = login(finance_client, "finance")
    support = login(support_client, "support")
    ids = make_payments(2)
    job = _run(finance, ids)
    assert f"Job #{job.id}" in finance_client.get(f"/admin/jobs/job/{job.id}/").get_data(
        as_text=True)
    assert support_client.get(f"/admin/jobs/job/{job.id}/").status_code == 404
    assert support_client.get(f"/admin/jobs/job/{job.id}/status.json").status_code == 404
    status = finance_client.get(f"/admin/jobs/job/{job.id}/status.json").get_json()
    assert (status["state"], status["done"], status["percent"]) == ("done", 2, 100)
    assert support.id != finance.id
    assert app.test_client().get("/admin/jobs/").status_code == 302  # login required
