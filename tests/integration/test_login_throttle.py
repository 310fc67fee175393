"""Issue 13: login brute force is throttled per account and per address (Flask-Limiter), an
unknown e-mail costs the same argon2 work as a known one, and every login is audited."""
import gc

import pytest
import redis
from argon2 import PasswordHasher
from sqlalchemy import select

from admin_app import create_app
from models import AuditEvent, db
from models import admin_user
from tests.conftest import PASSWORD, _config, csrf_token, make_admin

REDIS_URL = "redis://127.0.0.1:6379/0"


def _attempt(client, email, password="wrong password", address="127.0.0.1"):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_of_one_account_are_throttled(client):
    make_admin("owner")
    make_admin("viewer")
    for _ in range(5):
        assert _attempt(client, "owner@example.com").status_code == 401
    blocked = _attempt(client, "owner@example.com", PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert "Too many login attempts" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    # another account from the same address is not locked out
    assert _attempt(client, "viewer@example.com", PASSWORD).status_code == 302


def test_throttle_counts_the_account_whatever_its_spelling(client):
    make_admin("owner")
    for spelling in ("owner@example.com", "OWNER@example.com", " Owner@Example.com",
                     "owner@EXAMPLE.COM", "oWner@example.com"):
        assert _attempt(client, spelling).status_code == 401
    assert _attempt(client, "owner@example.com", PASSWORD).status_code == 429


def test_one_address_is_throttled_across_accounts(app, client):
    limit = app.config["LOGIN_LIMIT_PER_ADDRESS"]
    per_minute = int(limit.split()[0])
    for n in range(per_minute):
        assert _attempt(client, f"guess{n}@example.com").status_code == 401
    assert _attempt(client, "guess-last@example.com").status_code == 429
    # a different client address is still answered
    assert _attempt(client, "guess-last@example.com", address="127.0.0.2").status_code == 401


def test_throttled_attempts_do_not_reach_the_password_check(client, monkeypatch):
    make_admin("owner")
    for _ in range(5):
        _attempt(client, "owner@example.com")
    counting = _CountingHasher()
    monkeypatch.setitem(admin_user._state, "hasher", counting)
    assert _attempt(client, "owner@example.com").status_code == 429
    assert counting.verified == 0


def test_limits_are_shared_by_workers_through_redis(database_url, tmp_path):
    """Two app processes (workers) with REDIS_URL count the same attempts."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 for this test")
    config = _config(database_url, tmp_path)
    config.update(REDIS_URL=REDIS_URL)
    workers = [create_app(config), create_app(config)]
    server = redis.Redis.from_url(REDIS_URL)
    clients = [w.test_client() for w in workers]
    try:
        for n in range(5):  # alternate between the workers, as a load balancer would
            with workers[n % 2].app_context():
                assert _attempt(clients[n % 2], "nobody@example.com").status_code == 401
        assert server.keys(f"*{config['RATELIMIT_KEY_PREFIX']}*"), "counters are in Redis"
        with workers[1].app_context():
            assert _attempt(clients[1], "nobody@example.com").status_code == 429
    finally:
        keys = server.keys(f"*{config['RATELIMIT_KEY_PREFIX']}*")
        if keys:
            server.delete(*keys)


def test_login_works_with_limits_switched_off(app, database_url, tmp_path):
    """RATELIMIT_ENABLED=False (benchmarks): the limiter must still outlive create_app()."""
    config = _config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=False)
    unlimited = create_app(config)
    gc.collect()
    with unlimited.app_context():
        make_admin("owner")
        client = unlimited.test_client()
        for _ in range(6):
            assert _attempt(client, "owner@example.com").status_code == 401
        assert _attempt(client, "owner@example.com", PASSWORD).status_code == 302
        db.session.remove()


class _CountingHasher(PasswordHasher):
    """The test hasher, counting how often a password is checked."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("case", ["unknown", "known-wrong", "inactive", "invited"])
def test_every_refused_login_costs_one_argon2_verification(client, monkeypatch, case):
    user = make_admin("support")
    if case == "inactive":
        user.active = False
    if case == "invited":
        user.password_set = False
    db.session.commit()
    counting = _CountingHasher()
    monkeypatch.setitem(admin_user._state, "hasher", counting)
    email = "nobody@example.com" if case == "unknown" else user.email
    password = "wrong password" if case == "known-wrong" else PASSWORD
    assert _attempt(client, email, password).status_code == 401
    assert counting.verified == 1


def test_failed_and_successful_logins_are_audited(client):
    user = make_admin("finance")
    _attempt(client, "finance@example.com")
    _attempt(client, "stranger@example.com")
    _attempt(client, "finance@example.com", PASSWORD)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login")
                                .order_by(AuditEvent.id)).all()
    assert [(e.outcome, e.target_type, e.target_id, e.actor_id) for e in events] == [
        ("failed", "admin_user", user.id, None),
        ("failed", "admin_user", None, None),
        ("succeeded", "admin_user", user.id, user.id)]
    assert "'stranger@example.com'" in events[1].message
    assert "127.0.0.1" in events[2].message


@pytest.mark.parametrize("email", ["a\x00b@example.com", "x" * 300 + "@example.com"])
def test_unusable_emails_are_refused_without_error(client, email):
    response = _attempt(client, email)
    assert response.status_code == 400


def test_strangers_cannot_lock_the_owner_out(client, reliability):
    """Issue 20, item 1: 10 addresses guess the owner's password again and again; they keep
    being refused (the account-wide limit holds them), and the owner, from an address with
    no failures, logs in with the right password every time."""
    make_admin("owner")
    attackers = [f"198.51.100.{n}" for n in range(1, 11)]
    answers = []
    for _round in range(6):
        for address in attackers:
            answers.append(_attempt(client, "owner@example.com", address=address).status_code)
    assert set(answers) <= {401, 429} and answers.count(429) > answers.count(401)
    reliability.count("lockout", len(answers))
    assert all(code == 429 for code in answers[-10:])  # every attacker is held back now
    # an attacker who finally tries the right password is still held back
    assert _attempt(client, "owner@example.com", PASSWORD,
                    address=attackers[0]).status_code == 429
    for _ in range(3):  # three separate browsers of the owner
        owner = _attempt(client.application.test_client(), "owner@example.com", PASSWORD,
                         address="203.0.113.7")
        assert owner.status_code == 302, owner.get_data(as_text=True)[:200]
        reliability.count("lockout")
