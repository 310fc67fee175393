"""`flask --app wsgi sandbox serve --panel URL` on its own: it mirrors the database, prints the
settings that point a panel at it, answers the real adapters there, and delivers signed
webhooks to the panel URL."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import stripe

from actions.gateways.stripe import StripeGateway
from models import db
from tests import factories
from tests.fakes.loopback import stop
from tests.redis_support import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Panel(BaseHTTPRequestHandler):
    """Stands in for the panel's webhook endpoints: keeps what arrives."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_sandbox_serve_answers_the_adapters_and_delivers_signed_webhooks(app, database_url,
                                                                         tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("one process on the SQLite leg is enough")
    tx = factories.payment(factories.customer(name="Ada Lovelace"), 4900,
                           gateway_ref="pi_3ServeTestPayment0000001")
    db.session.commit()
    panel = ThreadingHTTPServer(("127.0.0.1", 0), _Panel)
    panel.received = []
    threading.Thread(target=panel.serve_forever, daemon=True).start()
    panel_url = f"http://127.0.0.1:{panel.server_address[1]}"
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1",
           "MEMBERDESK_INSTANCE_PATH": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sandbox", "serve", "--port",
         str(_free_port()), "--panel", panel_url], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out = []
        for line in process.stdout:
            out.append(line)
            if "SANDBOX_URL=" in line:
                break
        text = "".join(out)
        assert "1 payments" in text and "mirrored" in text, text
        settings = dict(line.strip().split("=", 1) for line in out if line.startswith("  "))
        assert settings["STRIPE_API_BASE"].startswith("http://127.0.0.1:"), text
        threading.Thread(target=out.extend, args=(process.stdout,), daemon=True).start()

        gateway = StripeGateway(settings["STRIPE_API_KEY"],
                                api_base=settings["STRIPE_API_BASE"], timeout=10,
                                max_retries=0)
        result = gateway.refund(tx.gateway_ref, 1000, "USD", reason="duplicate", note="",
                                idempotency_key="serve-1")
        assert result.status == "succeeded"
        sandbox = settings["SANDBOX_URL"]
        state = requests.get(f"{sandbox}/_sandbox/state", timeout=10).json()
        assert (state["stripe"]["charges"], state["stripe"]["refunds"]) == (1, 1)
        requests.post(f"{sandbox}/_sandbox/dispute", json={"ref": tx.gateway_ref},
                      timeout=30).raise_for_status()

        deadline = time.monotonic() + 20
        while len(panel.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        types = []
        for path, headers, body in panel.received:
            assert path == "/webhooks/stripe"
            event = stripe.Webhook.construct_event(
                body.decode(), headers["Stripe-Signature"], settings["STRIPE_WEBHOOK_SECRET"])
            types.append(event["type"])
        assert types == ["charge.refunded", "refund.created", "charge.dispute.created"]
        dispute = json.loads(panel.received[-1][2])["data"]["object"]
        assert dispute["amount"] == 3900 and dispute["payment_intent"] == tx.gateway_ref
    finally:
        stop(process, 10)
        panel.shutdown()
