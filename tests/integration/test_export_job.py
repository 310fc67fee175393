"""Large exports run as jobs writing a file to the file store (a folder, or an S3 bucket on
moto's server); avatars go through the same store."""
import re

import requests
from sqlalchemy import select

from admin_app import queue
from models import AuditEvent, Customer, Job, db
from tests import factories
from tests.conftest import csrf_token, login
from tests.integration.test_customer_edit import FIELDS, _png
from tests.job_support import wait_for_job

EXPORT = "/admin/customer/export/csv/"


def _customers(n):
    for i in range(n):
        factories.customer(name=f"Exported {i}", country="DE", lifetime_value_cents=i * 100)
    db.session.commit()


def _export_through_job(app, client, query=""):
    small = client.get(EXPORT + query)  # below the threshold: streamed at once
    app.config["EXPORT_JOB_THRESHOLD"] = 3
    response = client.get(EXPORT + query)
    assert response.status_code == 302 and "/admin/jobs/job/" in response.location
    queue.backend().wait_idle(60)
    job = wait_for_job(db.session.scalar(select(Job.id)))
    page = client.get(response.location).get_data(as_text=True)
    link = re.search(r'href="([^"]+/download)"', page)
    assert job.state == "done" and link, page
    return small.data, job, link.group(1)


def test_large_export_runs_as_a_job_with_a_download_link(app, client):
    login(client, "finance")
    _customers(5)
    direct, job, link = _export_through_job(app, client, "?search=Exported")
    assert job.total == 5 and job.done_count == 5
    download = client.get(link)
    assert download.status_code == 200 and download.data == direct
    assert "attachment" in download.headers["Content-Disposition"]
    audited = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "customers.export").order_by(AuditEvent.id)).all()
    assert [(e.actor_email, e.after["rows"], e.outcome) for e in audited] == [
        ("finance@example.com", 5, "succeeded")] * 2  # the direct export, then the job's


def test_export_job_into_an_s3_bucket(app, client, s3_signed_bucket):
    config, s3, front = s3_signed_bucket  # links checked by a SigV4-verifying server
    app.config.update(config)
    login(client, "owner")
    _customers(4)
    direct, job, link = _export_through_job(app, client)
    stored = s3.get_object(Bucket=config["S3_BUCKET"], Key="files/" + job.output_key)
    assert stored["Body"].read() == direct
    redirect = client.get(link)
    assert redirect.status_code == 302 and redirect.location.startswith(config["S3_ENDPOINT_URL"])
    assert requests.get(redirect.location, timeout=10).content == direct
    assert front.refused == []


def test_cli_export_with_job_writes_the_same_file(app, client, tmp_path):
    login(client, "finance")
    _customers(3)
    target = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["export-customers", str(target), "--job"])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == client.get(EXPORT).data
    assert db.session.scalar(select(Job.action)) == "export_customers"


def test_viewer_cannot_start_an_export_job(app, client):
    login(client, "viewer")
    _customers(5)
    app.config["EXPORT_JOB_THRESHOLD"] = 3
    assert client.get(EXPORT).status_code == 403
    assert db.session.scalar(select(Job.id)) is None


def test_avatars_are_kept_in_the_bucket(app, client, s3_bucket):
    config, s3 = s3_bucket
    app.config.update(config)
    customer = factories.customer(name="Ada", email="ada@old.example")
    db.session.commit()
    login(client, "support")

    def save():
        data = dict(FIELDS, avatar=(_png(), "me.png"))
        data["csrf_token"] = csrf_token(client, f"/admin/customer/edit/?id={customer.id}")
        return client.post(f"/admin/customer/edit/?id={customer.id}", data=data,
                           content_type="multipart/form-data")

    assert save().status_code == 302
    db.session.expire_all()
    first = db.session.get(Customer, customer.id).avatar
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=config["S3_BUCKET"])["Contents"]]
    assert keys == [f"avatars/{first}"]
    served = client.get(f"/admin/customer/avatar/{customer.id}")
    assert served.status_code == 200 and served.data[:4] == b"RIFF"
    assert save().status_code == 302
    db.session.expire_all()
    second = db.session.get(Customer, customer.id).avatar
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=config["S3_BUCKET"])["Contents"]]
    assert second != first and keys == [f"avatars/{second}"]  # the old one was deleted
