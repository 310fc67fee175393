"""Issue 13: sessions end at logout, password/role change, deactivation, idle and max age;
a fresh session (new CSRF secret) at login."""
import pytest
from sqlalchemy import select

from actions import admin_users
from admin_app.cli import ensure_admin
from models import AdminUser, AuditEvent, db
from tests.conftest import PASSWORD, csrf_token, login, make_admin

LIST, EXPORT = "/admin/customer/", "/admin/customer/export/csv/"


class Clock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, start=1_800_000_000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, *, minutes=0, hours=0):
        self.now += minutes * 60 + hours * 3600


@pytest.fixture
def clock(app):
    app.config["CLOCK"] = Clock()
    return app.config["CLOCK"]


def _replay(app, cookie, url):
    """A second browser that only has the copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie, domain="localhost")
    return other.get(url)


def _logged_in(client):
    response = client.get(LIST)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _session_cookie(client):
    return client.get_cookie("session", domain="localhost").value


def test_copied_cookie_stops_working_after_logout(app, client):
    login(client, "owner")
    cookie = _session_cookie(client)
    assert _replay(app, cookie, LIST).status_code == 200
    assert _replay(app, cookie, EXPORT).status_code == 200

    response = client.post("/logout", data={"csrf_token": csrf_token(client, LIST)})
    assert response.status_code == 302

    for url in (LIST, EXPORT):
        replayed = _replay(app, cookie, url)
        assert replayed.status_code == 302, url
        assert "/login" in replayed.headers["Location"]


def test_logout_ends_the_users_other_sessions_too(app, client):
    user = login(client, "finance")
    laptop = app.test_client()
    laptop.post("/login", data={"email": user.email, "password": PASSWORD,
                                "csrf_token": csrf_token(laptop)})
    assert _logged_in(laptop)
    client.post("/logout", data={"csrf_token": csrf_token(client, LIST)})
    assert not _logged_in(laptop)


def test_password_change_ends_every_session(client):
    user = login(client, "support")
    assert _logged_in(client)
    ensure_admin(user.email, "support", "a brand new password")  # create-admin resets it
    assert not _logged_in(client)


def test_role_change_deactivation_and_end_sessions_end_sessions(app, client):
    owner = make_admin("owner", "boss@example.com")
    for n, change in enumerate((lambda uid: admin_users.change_role(owner, uid, "viewer"),
                   lambda uid: admin_users.end_sessions(owner, uid),
                   lambda uid: admin_users.set_active(owner, uid, False))):
        victim_client = app.test_client()
        victim = login(victim_client, "finance", f"finance{n}@example.com")
        assert _logged_in(victim_client)
        change(victim.id)
        assert not _logged_in(victim_client)


def test_session_ends_after_idle_timeout(app, client, clock):
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    login(client, "viewer")
    for _ in range(4):  # active every 29 minutes: still in
        clock.advance(minutes=29)
        assert _logged_in(client)
    clock.advance(minutes=31)
    response = client.get(LIST, follow_redirects=True)
    assert "/login" in response.request.path
    assert "30 minutes without activity" in response.get_data(as_text=True)


def test_session_ends_after_absolute_lifetime_even_when_active(app, client, clock):
    assert app.config["SESSION_MAX_HOURS"] == 12
    login(client, "viewer")
    for _ in range(12 * 3 - 1):  # a request every 20 minutes for almost 12 hours
        clock.advance(minutes=20)
        assert _logged_in(client)
    clock.advance(minutes=21)
    response = client.get(LIST, follow_redirects=True)
    assert "/login" in response.request.path
    assert "after 12 hours" in response.get_data(as_text=True)


def test_timeouts_follow_configuration(app, client, clock):
    app.config.update(SESSION_IDLE_MINUTES=5)
    login(client, "viewer")
    clock.advance(minutes=6)
    assert not _logged_in(client)


def test_csrf_token_from_login_page_is_void_after_login(client):
    make_admin("owner")
    old_token = csrf_token(client)
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD,
                                "csrf_token": old_token})
    assert _logged_in(client)
    refused = client.post("/logout", data={"csrf_token": old_token})
    assert refused.status_code == 400
    assert _logged_in(client), "a stale token must change nothing"
    new_token = csrf_token(client, LIST)
    assert new_token != old_token
    assert client.post("/logout", data={"csrf_token": new_token}).status_code == 302
    assert not _logged_in(client)


def test_login_starts_a_fresh_session(client):
    make_admin("owner")
    csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before login"
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD,
                                "csrf_token": csrf_token(client)})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "csrf_token" not in session  # a new one is made on the next form


def test_cookie_of_another_user_id_or_forged_token_is_refused(app, client):
    user = login(client, "owner")
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:not-the-token"
    assert not _logged_in(client)


def test_users_from_before_the_migration_get_a_token_at_login(client):
    user = make_admin("owner")
    user.session_token = None
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD,
                                "csrf_token": csrf_token(client)})
    assert _logged_in(client)
    db.session.expire_all()
    assert db.session.get(AdminUser, user.id).session_token


def test_an_ended_session_can_log_in_again_from_the_same_browser(client):
    user = login(client, "owner")
    db.session.get(AdminUser, user.id).end_sessions()  # e.g. an owner's "End sessions"
    db.session.commit()
    assert client.get("/").status_code == 302  # the stale login is noticed on this request
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert _logged_in(client)


def _change_password(client, current, new, confirm=None):
    url = "/account/password"
    return client.post(url, data={"current": current, "password": new,
                                  "confirm": confirm or new, "csrf_token": csrf_token(client, url)})


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app, client):
    user = login(client, "finance")
    laptop = app.test_client()
    laptop.post("/login", data={"email": user.email, "password": PASSWORD,
                                "csrf_token": csrf_token(laptop)})
    response = _change_password(client, PASSWORD, "a brand new password")
    assert response.status_code == 302
    assert _logged_in(client)
    assert not _logged_in(laptop)
    db.session.expire_all()
    assert db.session.get(AdminUser, user.id).check_password("a brand new password")
    events = db.session.scalars(select(AuditEvent)
                                .where(AuditEvent.action == "change_password")).all()
    assert [e.outcome for e in events] == ["succeeded"]


@pytest.mark.parametrize("current, new, confirm, message", [
    ("wrong password", "a brand new password", None, "current password is wrong"),
    (PASSWORD, "too short", None, "at least 10"),
    (PASSWORD, "a brand new password", "another new password", "differ"),
])
def test_password_change_refusals_change_nothing(client, current, new, confirm, message):
    user = login(client, "viewer")
    hash_before = user.password_hash
    response = _change_password(client, current, new, confirm)
    assert response.status_code in (200, 400)
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AdminUser, user.id).password_hash == hash_before
    assert _logged_in(client)


def test_password_page_requires_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
