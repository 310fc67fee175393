"""A bulk confirmation sent twice (double click, the browser's resubmit) starts one job: the
second sending finds the job the first started and says so; every customer gets one e-mail."""
import re
import threading

from sqlalchemy import func, select

from admin_app import queue
from models import Job, db
from tests import factories
from tests.conftest import login
from tests.job_support import wait_for_job

CONFIRM = "/admin/customer/bulk/resend_latest_invoice/"


def _customers(n=3):
    ids = []
    for i in range(n):
        customer = factories.customer(name=f"Twice {i}", email=f"twice{i}@example.com")
        factories.payment(customer, 2000, description=f"Course {i}")
        ids.append(customer.id)
    db.session.commit()
    return ids


def _form(client, url):
    html = client.get(url).get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    assert fields.get("request_key"), "the confirmation form carries a request key"
    return fields


def test_a_confirmation_sent_twice_starts_one_job_and_sends_each_email_once(
        app, client, smtp_server):
    ids = _customers()
    login(client, "support")
    url = f"{CONFIRM}?ids={','.join(map(str, ids))}"
    form = _form(client, url)

    first = client.post(url, data=form)
    again = client.post(url, data=form, follow_redirects=True)

    assert first.status_code == 302 and "/admin/jobs/job/" in first.location
    job_id = db.session.scalar(select(Job.id))
    page = again.get_data(as_text=True)
    assert f"job #{job_id}" in page and "no second job was started" in page
    assert again.request.path == f"/admin/jobs/job/{job_id}/"  # shown the job already started
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    queue.backend().wait_idle(60)
    assert wait_for_job(job_id).done_count == 3
    recipients = sorted(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert recipients == [f"twice{i}@example.com" for i in range(3)]

    # a fresh confirmation page is a new request: it starts a job of its own
    client.post(url, data=_form(client, url))
    assert db.session.scalar(select(func.count()).select_from(Job)) == 2
    queue.backend().wait_idle(60)


def test_two_sendings_at_the_same_moment_start_one_job(app, smtp_server):
    ids = _customers(2)
    clients = [app.test_client(), app.test_client()]
    login(clients[0], "support", email="one@example.com")
    login(clients[1], "support", email="two@example.com")
    url = f"{CONFIRM}?ids={','.join(map(str, ids))}"
    key = _form(clients[0], url)["request_key"]
    forms = [{**_form(c, url), "request_key": key} for c in clients]
    answers, barrier = [], threading.Barrier(2)

    def send(c, form):
        barrier.wait()
        answers.append(c.post(url, data=form).status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, forms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [302, 302]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    queue.backend().wait_idle(60)
    wait_for_job(db.session.scalar(select(Job.id)))
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [
        "twice0@example.com", "twice1@example.com"]


def test_a_missing_request_key_is_refused_and_starts_nothing(app, client, smtp_server):
    ids = _customers(1)
    login(client, "support")
    url = f"{CONFIRM}?ids={ids[0]}"
    form = {k: v for k, v in _form(client, url).items() if k != "request_key"}
    page = client.post(url, data=form).get_data(as_text=True)
    assert "damaged or incomplete" in page
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
