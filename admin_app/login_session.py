"""Login sessions: revocable, with an idle timeout and an absolute lifetime.

The session cookie (Flask's signed cookie) holds Flask-Login's user id as "<id>:<token>",
where the token is AdminUser.session_token. Logout, a password change, a role change,
deactivation and "End sessions" give the user a new token, so every cookie issued before,
copies included, stops working on its next request. The cookie also carries when the login
happened and when the user was last seen; the loader refuses it past SESSION_IDLE_MINUTES
of inactivity or SESSION_MAX_HOURS after login.
"""
import time
from datetime import datetime, timezone

from flask import current_app, flash, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select

from admin_app.extensions import login_manager
from models import AdminUser, db

SEEN_EVERY = 60  # seconds: refresh "last seen" at most once a minute (fewer new cookies)
# Every request loads its admin: the statement built once (session.get builds it each time,
# which cost more than running it; issue 22)
_USER = select(AdminUser).where(AdminUser.id == bindparam("id"))


def clock():
    """Seconds since the epoch; tests put a controllable clock in config CLOCK."""
    return (current_app.config.get("CLOCK") or time.time)()


def now():
    return datetime.fromtimestamp(clock(), timezone.utc)


def start(user):
    """A fresh session for `user`: nothing of the anonymous one survives (CSRF secret incl.)."""
    session.clear()
    login_user(user)
    session["login_at"] = session["seen_at"] = clock()


def end():
    logout_user()
    session.clear()


def _forget():
    """Drop the login from this session, keep the rest (a form's CSRF token on this page)."""
    for key in ("_user_id", "_fresh", "_id", "login_at", "seen_at"):
        session.pop(key, None)


def _expired():
    """The reason this session has ended, or None while it is valid."""
    login_at, seen_at, current = session.get("login_at"), session.get("seen_at"), clock()
    if not isinstance(login_at, (int, float)) or not isinstance(seen_at, (int, float)):
        return "Your session has ended. Please log in again."
    if current - login_at > current_app.config["SESSION_MAX_HOURS"] * 3600:
        return (f"Your session has ended after {current_app.config['SESSION_MAX_HOURS']} "
                "hours. Please log in again.")
    if current - seen_at > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return (f"Your session has ended after {current_app.config['SESSION_IDLE_MINUTES']} "
                "minutes without activity. Please log in again.")
    if current - seen_at > SEEN_EVERY:
        session["seen_at"] = current
    return None


@login_manager.user_loader
def load_user(user_id):
    """The user of a session whose token is still current and that has not expired."""
    uid, _, token = str(user_id).partition(":")
    if not uid.isdigit() or not token or len(uid) > 18:
        return None
    user = db.session.execute(_USER, {"id": int(uid)}).scalar_one_or_none()
    if user is None or not user.active or not user.session_matches(token):
        _forget()
        return None
    reason = _expired()
    if reason:
        _forget()
        flash(reason, "info")
        return None
    return user
