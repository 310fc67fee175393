"""moto's S3 server as a child process on a free loopback port (an S3-compatible bucket)."""
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.fakes.loopback import stop


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """The endpoint URL of a moto S3 server (credentials: any, set in the environment)."""
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=5)
            break
        except requests.RequestException:  # not listening yet, or too busy to answer yet
            assert process.poll() is None and time.monotonic() < deadline, "moto did not start"
            time.sleep(0.2)
    try:
        yield url
    finally:
        stop(process, 10)


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """A fresh bucket; returns (app config for FILE_STORE=s3, boto3 client)."""
    import boto3
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    bucket = f"memberdesk-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    yield {"FILE_STORE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_server,
           "S3_REGION": "us-east-1"}, client
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


# --- A signature-checking front for moto (moto checks no presigned link) -------------------
# Issue 20, item 17: links a browser follows must be SigV4 (AWS refuses SigV2 for new buckets
# and regions) and must stop working when they expire or are altered. This front answers
# presigned GETs itself: it recomputes the AWS Signature Version 4 of the query string with
# the test credentials (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html),
# refuses SigV2 links, altered links, expired ones and requests neither signed nor presigned
# (a private bucket) with 403, and passes the rest to moto.
import hashlib  # noqa: E402
import hmac  # noqa: E402
import threading  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from urllib.parse import parse_qsl, quote  # noqa: E402

from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request, Response  # noqa: E402

SECRET_KEY = "testing"


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sigv4_problem(method, host, raw_path, raw_query, now=None, secret=SECRET_KEY):
    """Why a presigned link is refused (a sentence), or None when it is valid now."""
    params = parse_qsl(raw_query, keep_blank_values=True)
    names = {k for k, _ in params}
    if "Signature" in names or "AWSAccessKeyId" in names:
        return "SigV2 link (Signature/AWSAccessKeyId): not accepted"
    values = dict(params)
    if values.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "X-Amz-Signature" not in values:
        return "not a SigV4 presigned link"
    amz_date, scope = values["X-Amz-Date"], values["X-Amz-Credential"].split("/", 1)[1]
    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    if (now - signed_at).total_seconds() > int(values["X-Amz-Expires"]):
        return "Request has expired"
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(p for p in params if p[0] != "X-Amz-Signature"))
    headers = values["X-Amz-SignedHeaders"].split(";")
    if headers != ["host"]:
        return f"unexpected signed headers {headers}"
    canonical = "\n".join([method, raw_path, canonical_query, f"host:{host}", "", "host",
                           "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    day, region, service, _ = scope.split("/")
    key = _hmac(("AWS4" + secret).encode("utf-8"), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, values["X-Amz-Signature"]):
        return "SignatureDoesNotMatch"
    return None


class SigningFront:
    """A loopback HTTP server in front of moto that checks presigned links."""

    def __init__(self, moto_url):
        self.moto_url, self.refused = moto_url, []
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _app(self, environ, start_response):
        request = Request(environ)
        raw_path = environ.get("RAW_URI", environ.get("REQUEST_URI", request.path)).split("?")[0]
        raw_query = environ.get("QUERY_STRING", "")
        if "Authorization" not in request.headers:  # a private bucket: a valid link or 403
            try:
                problem = sigv4_problem(request.method, request.host, raw_path, raw_query)
            except (KeyError, ValueError, IndexError):
                problem = "malformed presigned link"
            if problem:
                self.refused.append(problem)
                return Response(f"<Error><Code>AccessDenied</Code><Message>{problem}</Message>"
                                "</Error>", 403, mimetype="application/xml")(
                                    environ, start_response)
        headers = {k: v for k, v in request.headers if k.lower() not in ("host",
                                                                         "content-length")}
        answer = requests.request(request.method, self.moto_url + raw_path
                                  + (f"?{raw_query}" if raw_query else ""),
                                  headers=headers, data=request.get_data(), timeout=30)
        excluded = ("content-encoding", "transfer-encoding", "connection", "content-length")
        return Response(answer.content, answer.status_code,
                        [(k, v) for k, v in answer.headers.items()
                         if k.lower() not in excluded])(environ, start_response)

    def close(self):
        self.server.shutdown()


@pytest.fixture
def s3_signed_bucket(s3_bucket):
    """s3_bucket behind the signature-checking front: (config, client, front)."""
    config, client = s3_bucket
    front = SigningFront(config["S3_ENDPOINT_URL"])
    try:
        yield dict(config, S3_ENDPOINT_URL=front.url), client, front
    finally:
        front.close()
