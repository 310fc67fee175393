"""Issue 20, item 17: download links into the bucket are SigV4, expire, and stop working when
altered; checked by a server that verifies signatures (moto behind tests/fakes/s3_server.py's
SigningFront, since moto itself checks no presigned link)."""
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import requests

from actions.filestore import S3Store


def _store(config, seconds=900):
    return S3Store(config["S3_BUCKET"], "files/", endpoint_url=config["S3_ENDPOINT_URL"],
                   region=config["S3_REGION"], url_seconds=seconds)


def test_links_are_sigv4_and_work(s3_signed_bucket):
    config, _, front = s3_signed_bucket
    store = _store(config)
    store.put("a.csv", b"name\nAda\n")
    link = store.url("a.csv", "customers.csv")
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and "Signature" not in query
    assert query["X-Amz-Expires"] == ["900"]
    response = requests.get(link, timeout=10)
    assert response.status_code == 200, (response.text, front.refused)
    assert response.content == b"name\nAda\n"
    assert "customers.csv" in response.headers.get("Content-Disposition", "")


def test_altered_links_are_refused(s3_signed_bucket):
    config, _, front = s3_signed_bucket
    store = _store(config)
    store.put("a.csv", b"secret")
    store.put("b.csv", b"other")
    link = store.url("a.csv")
    for altered in (link.replace("a.csv", "b.csv"),
                    link.replace("X-Amz-Expires=900", "X-Amz-Expires=999999"),
                    link[:-4] + ("0000" if not link.endswith("0000") else "1111")):
        response = requests.get(altered, timeout=10)
        assert response.status_code == 403, altered
        assert b"secret" not in response.content and b"other" not in response.content
    assert front.refused.count("SignatureDoesNotMatch") == 3


def test_expired_links_are_refused(s3_signed_bucket):
    from tests.fakes.s3_server import sigv4_problem
    config, _, _ = s3_signed_bucket
    store = _store(config, seconds=60)
    store.put("a.csv", b"secret")
    parts = urlsplit(store.url("a.csv"))
    now = datetime.now(timezone.utc)
    assert sigv4_problem("GET", parts.netloc, parts.path, parts.query, now) is None
    later = now + timedelta(seconds=61)
    assert sigv4_problem("GET", parts.netloc, parts.path, parts.query, later) == \
        "Request has expired"


def test_a_link_stops_working_when_it_expires(s3_signed_bucket):
    """The same link, followed within its lifetime and after it, at the checking server."""
    import time
    config, _, front = s3_signed_bucket
    store = _store(config, seconds=2)
    store.put("a.csv", b"secret")
    link = store.url("a.csv")
    assert requests.get(link, timeout=10).status_code == 200
    time.sleep(3.2)  # X-Amz-Date has whole seconds: past 2 s whatever the second it was signed
    response = requests.get(link, timeout=10)
    assert response.status_code == 403 and b"secret" not in response.content
    assert front.refused == ["Request has expired"]


def test_a_request_neither_signed_nor_presigned_is_refused(s3_signed_bucket):
    config, _, front = s3_signed_bucket
    store = _store(config)
    store.put("a.csv", b"secret")
    bare = store.url("a.csv").split("?")[0]
    response = requests.get(bare, timeout=10)
    assert response.status_code == 403 and b"secret" not in response.content


def test_a_sigv2_link_is_refused(s3_signed_bucket):
    config, _, front = s3_signed_bucket
    from botocore.config import Config
    import boto3
    v2 = boto3.client("s3", endpoint_url=config["S3_ENDPOINT_URL"], region_name="us-east-1",
                      config=Config(signature_version="s3"))
    v2.put_object(Bucket=config["S3_BUCKET"], Key="files/a.csv", Body=b"x")
    link = v2.generate_presigned_url("get_object", Params={
        "Bucket": config["S3_BUCKET"], "Key": "files/a.csv"}, ExpiresIn=60)
    assert requests.get(link, timeout=10).status_code == 403
