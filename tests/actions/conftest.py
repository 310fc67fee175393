"""The fast tier: action functions on in-memory SQLite with the in-process gateway.

One app and one in-memory database for the whole run (the schema from the models); every
test starts on empty tables, with its own gateways, clock, outbox and Deps built directly
(the way admin_app/composition.py builds them for the web, the CLI and the jobs). No
PostgreSQL, Redis, HTTP server or browser: `.venv/bin/python -m pytest tests/actions` is the
inner loop.
"""
from datetime import datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from flask import render_template

from actions.deps import Deps
from actions.errors import EmailFailed, GatewayNotConfigured
from admin_app import create_app
from models import AdminUser, ROLES, db
from tests.actions import support
from tests.actions.gateway import SubscriptionGateway

#: the tests' "now": inside the first billing period of factories' subscriptions (1–31 Jan)
NOW = datetime(2026, 1, 11, 12, 0, tzinfo=timezone.utc)



@pytest.fixture(scope="session")
def actions_app(tmp_path_factory):
    app = create_app({
        "TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "fast-tier",
        "STORE_CURRENCY": "USD", "SERVER_NAME": "localhost", "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1, "AVATAR_DIR": str(tmp_path_factory.mktemp("avatars"))})
    with app.app_context():
        db.create_all()
        yield app


@pytest.fixture(autouse=True)
def empty_tables(actions_app):
    """Every test starts on empty tables and leaves no session behind."""
    yield
    support.empty_tables()
    db.session.remove()


@pytest.fixture(autouse=True)
def stand_in_pdf(request, monkeypatch):
    """Invoices carry a stand-in PDF: xhtml2pdf costs about 0.7 s to import and 0.1 s of CPU
    an invoice, and only the invoice's own test looks at the PDF (it asks for `real_pdf`;
    tests/integration/test_invoice.py reads the rendered PDF's text)."""
    if "real_pdf" not in request.fixturenames:
        monkeypatch.setattr("actions.invoice.invoice_pdf",
                            lambda invoice, render: b"stand-in for the invoice's PDF")


@pytest.fixture
def real_pdf():
    """The invoice rendered by xhtml2pdf, as the panel sends it."""


class Clock:
    """A clock the test moves: deps.clock()."""

    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


class Outbox(list):
    """The mail the actions sent; `fail_next` makes the next send fail as SMTP would."""

    fail_next = None

    def send(self, message, *, what="the email"):
        if self.fail_next:
            reason, self.fail_next = self.fail_next, None
            raise EmailFailed(f"The mail server refused {what}: {reason}; nothing was sent.")
        self.append(message)


@pytest.fixture
def gateways():
    return {"stripe": SubscriptionGateway("stripe"), "paypal": SubscriptionGateway("paypal")}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def outbox():
    return Outbox()


@pytest.fixture
def deps(gateways, clock, outbox, actions_app):
    def gateway(name):
        if name not in gateways:
            raise GatewayNotConfigured(f"{name} is not configured; nothing was sent.",
                                       gateway=name)
        return gateways[name]
    return Deps(store_currency="USD", gateways=gateway, clock=clock, send_mail=outbox.send,
                render=render_template, settings=MappingProxyType({
                    "SELLER_NAME": "Acme Courses", "SELLER_ADDRESS": "1 Main St",
                    "SELLER_VAT_ID": "", "SELLER_LOGO": "",
                    "AVATAR_DIR": actions_app.config["AVATAR_DIR"],
                    "INSTANCE_PATH": actions_app.instance_path}))


@pytest.fixture
def actors():
    """One active admin per role (plus a deactivated owner), as rows: {role: AdminUser}."""
    users = {}
    for role in [*ROLES, "inactive"]:
        user = AdminUser(email=f"{role}@example.com", role="owner" if role == "inactive"
                         else role, active=role != "inactive", password_hash="not-used")
        db.session.add(user)
        users[role] = user
    db.session.commit()
    return users
