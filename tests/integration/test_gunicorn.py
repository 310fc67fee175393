"""Production shape: gunicorn with 2 workers on loopback against PostgreSQL, over real HTTP."""
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from models import db
from tests import factories
from tests.conftest import CSRF_RE
from tests.fakes.loopback import stop

pytestmark = pytest.mark.slow  # starts gunicorn

ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "ops@example.com", "a long production password"


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("gunicorn is tested against PostgreSQL (the production database)")
    return database_url


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env, *args):
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _wait_until_up(proc, base, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"gunicorn exited: {log.read_text()}"
        try:
            if requests.get(f"{base}/login", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still booting
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer in 60 s: {log.read_text()}")


@pytest.fixture
def gunicorn(postgres_url, app, tmp_path):
    """`gunicorn -w 2 wsgi:app` as in docs/PRODUCTION.md; yields (base URL, access log)."""
    env = {**os.environ, "DATABASE_URL": postgres_url, "MEMBERDESK_ENV": "production",
           "COOKIE_SECURE": "0",  # plain HTTP on loopback in this test
           "SECRET_KEY": "gunicorn-test-secret", "AVATAR_DIR": str(tmp_path / "avatars"),
           "DB_POOL_SIZE": "2", "DB_MAX_OVERFLOW": "1"}
    _flask(env, "db", "upgrade")
    assert f"Admin {EMAIL} (viewer) is ready." in _flask(
        env, "create-admin", EMAIL, "--role", "viewer", "--password", PASSWORD)
    port, log, access = _free_port(), tmp_path / "gunicorn.log", tmp_path / "access.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--access-logfile", str(access), "--access-logformat", "%(p)s %(s)s %(U)s",
             "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, f"http://127.0.0.1:{port}", log)
        yield f"http://127.0.0.1:{port}", access
    finally:
        stop(proc, 30)


def test_two_workers_serve_a_logged_in_list(gunicorn):
    base, access = gunicorn
    factories.customer(name="Gunicorn Customer", email="served@example.com",
                       lifetime_value_cents=4200)
    db.session.commit()

    session = requests.Session()
    token = CSRF_RE.search(session.get(f"{base}/login", timeout=10).text)
    assert token, "no CSRF token on /login"
    response = session.post(f"{base}/login", allow_redirects=False, timeout=30, data={
        "email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302, response.text

    def list_page(_):
        page = session.get(f"{base}/admin/customer/", allow_redirects=False, timeout=30)
        return page.status_code, page.text

    with ThreadPoolExecutor(max_workers=6) as pool:  # keeps both sync workers busy
        pages = list(pool.map(list_page, range(24)))
    for status, text in pages:
        assert status == 200
        assert "Gunicorn Customer" in text and "served@example.com" in text
        assert "$42.00" in text

    lines = [line.split() for line in access.read_text().splitlines()]
    pids = {pid for pid, status, path in lines if path == "/admin/customer/" and status == "200"}
    assert len(pids) == 2, lines  # the session cookie works in either worker
