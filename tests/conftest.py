"""Shared fixtures: the app on SQLite and PostgreSQL, logged-in clients, CSRF tokens."""
import os
import re
import secrets

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from admin_app import create_app
from models import AdminUser, db
from tests.db_reset import empty_tables

pytest_plugins = ["tests.gateway_sandbox", "tests.fakes.s3_server",
                  "tests.fakes.localstripe_server", "tests.fakes.smtp_server",
                  "tests.redis_support", "tests.reliability"]


def _on_server(url, statement):
    """Run a statement on the PostgreSQL server of `url`, outside any database of ours."""
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(statement))
    server.dispose()


def pytest_configure(config):
    """The sandbox's lost answer is a timeout at once: no test waits for a hang. Under
    pytest-xdist (`-n 2`) each worker gets a PostgreSQL database of its own, for the fixtures
    and for every process a test starts (they read TEST_DATABASE_URL too)."""
    # imported here, not at the top: pytest imports the plugins named in pytest_plugins after
    # this module, and rewrites their asserts only if nothing imported them before
    from tests.gateway_sandbox import lost_answers
    lost_answers()
    worker, url = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("TEST_DATABASE_URL")
    if not (worker and url):
        return
    own = make_url(url).set(database=f"{make_url(url).database}_{worker}")
    _on_server(url, f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
    _on_server(url, f'CREATE DATABASE "{own.database}"')
    config.stash[WORKER_DATABASE] = own.database
    os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)


def pytest_unconfigure(config):
    name = config.stash.get(WORKER_DATABASE, None)
    if name:
        _on_server(os.environ["TEST_DATABASE_URL"],
                   f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
WORKER_DATABASE = pytest.StashKey[str]()
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "correct horse battery"


def _config(url, tmp_path):
    return {
        "TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret",
        "AVATAR_DIR": str(tmp_path / "avatars"), "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1,
        "STORE_CURRENCY": "USD", "SERVER_NAME": "localhost",
        # login limits: counters of their own per app, also when they live in Redis
        "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(6)}",
    }


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """One migrated database per backend for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
    app = create_app(_config(url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        if request.param == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (own `g`, own DB session), as in production,
    although the test itself holds an app context open to look at the database."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    """A fresh app on empty tables, inside an app context."""
    app = create_app(_config(database_url, tmp_path))
    app.test_client_class = FreshContextClient
    with app.app_context():
        empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, url="/login"):
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def make_admin(role="owner", email=None):
    user = AdminUser(email=email or f"{role}@example.com", role=role)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def login(client, role="owner", email=None):
    user = make_admin(role, email)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return user


@pytest.fixture
def owner_client(client):
    login(client, "owner")
    return client
