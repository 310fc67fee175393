"""The demo as the README starts it: its sandbox holds what the panel holds (both sync dry
runs find 0 differences), and still does after its clock moved (renewals charged,
cancellations ended, all through signed webhooks)."""
import os
import re
import socket
import sqlite3
import subprocess
import threading
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.fakes.loopback import stop

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo(tmp_path):
    """`flask --app wsgi demo` in a process of its own, with its instance folder in tmp."""
    env = {**os.environ, "MEMBERDESK_INSTANCE_PATH": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    for key in ("DATABASE_URL", "STRIPE_API_KEY", "PAYPAL_CLIENT_ID", "MAIL_OUTBOX"):
        env.pop(key, None)
    port = _free_port()
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    process = subprocess.Popen([*flask, "demo", "--port", str(port), "--customers", "80"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        for line in process.stdout:
            out.append(line)
            if "Running on" in line or "Press CTRL+C" in line:
                break
        text = "".join(out)
        # keep reading its log, or the pipe fills and the demo stops answering
        threading.Thread(target=out.extend, args=(process.stdout,), daemon=True).start()
        assert "SANDBOX" in text and "no real money moves" in text, text
        assert "--no-sandbox" in text, text
        url = f"http://127.0.0.1:{port}"
        assert requests.get(f"{url}/login", timeout=10).status_code == 200

        def run(*args):
            return subprocess.run([*flask, *args], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=300)

        def start(*args):
            return subprocess.Popen([*flask, *args], cwd=ROOT, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        yield {"url": url, "run": run, "start": start, "db": tmp_path / "memberdesk.db",
               "output": text}
    finally:
        stop(process, 10)


def _no_drift(demo):
    """Both dry runs at once (each is a process): (exit code, drift line) per gateway."""
    runs = {g: demo["start"]("sync", g, "--dry-run", "--quiet", "--rate", "1000")
            for g in ("stripe", "paypal")}
    for gateway, process in runs.items():
        out, err = process.communicate(timeout=240)
        found = re.findall(r"Drift: \d+ difference\(s\)\.", out)
        assert (process.returncode, found) == (0, ["Drift: 0 difference(s)."]), \
            f"{gateway}: {out[-2000:]}{err[-2000:]}"


def _settled(db, timeout=60):
    """Wait until every stored webhook event was processed; their statuses."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(db) as conn:
            statuses = dict(conn.execute("SELECT status, count(*) FROM webhook_event "
                                         "GROUP BY status").fetchall())
        if set(statuses) <= {"processed", "ignored"} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.2)


def _payments(db):
    with sqlite3.connect(db) as conn:
        return conn.execute('SELECT count(*) FROM "transaction"').fetchone()[0]


def test_the_demo_sandbox_agrees_with_the_panel_before_and_after_the_clock_moves(demo):
    _no_drift(demo)
    before = _payments(demo["db"])
    moved = demo["run"]("sandbox", "advance", "--days", "40")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "renewed" in moved.stdout
    statuses = _settled(demo["db"])
    assert set(statuses) == {"processed"}, statuses
    assert _payments(demo["db"]) > before  # the renewals, each a new payment
    _no_drift(demo)
