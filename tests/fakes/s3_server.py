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
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
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
