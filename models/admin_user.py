"""Admin users of the panel, their roles, passwords and revocable sessions."""
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin

from models.base import db
from models._types import UTCDateTime, utcnow

PRODUCTION_HASHER = PasswordHasher()  # argon2-cffi's defaults (RFC 9106 low-memory profile)
# Under TESTING a login costs ~1 ms instead of ~0.3 s; never used outside tests.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_state = {"hasher": PRODUCTION_HASHER, "dummy": {}}

MIN_PASSWORD_LENGTH = 10

# What each role may do; the action functions (and the views, to hide what is refused)
# check these names on the server. change_subscription: price, plan, pause / resume;
# cancel_subscription: cancel and undo (actions/subscription_*.py); add_note: internal notes
# on a customer (actions/customer_notes.py).
ROLES = {
    "owner": {"view", "edit_customer", "add_note", "refund", "resend_invoice", "edit_affiliate",
              "export", "view_audit", "manage_catalog", "manage_admins", "change_subscription",
              "cancel_subscription", "webhooks"},
    "finance": {"view", "add_note", "refund", "resend_invoice", "edit_affiliate", "export",
                "view_audit", "change_subscription", "cancel_subscription", "webhooks"},
    "support": {"view", "edit_customer", "add_note", "resend_invoice", "edit_affiliate"},
    "viewer": {"view"},
}


def use_cheap_hashing(cheap):
    """Pick the hasher for new hashes: cheap parameters for the test suite only."""
    _state["hasher"] = CHEAP_HASHER if cheap else PRODUCTION_HASHER


def hasher():
    return _state["hasher"]


def verify_dummy_password(password):
    """Spend the time a real verification costs, for an e-mail that has no account."""
    current = hasher()
    dummy = _state["dummy"].get(id(current))
    if dummy is None:
        dummy = _state["dummy"][id(current)] = current.hash(secrets.token_urlsafe(16))
    try:
        current.verify(dummy, password)
    except (VerificationError, InvalidHashError):
        pass
    return False


def new_token():
    return secrets.token_urlsafe(32)


def token_digest(token):
    """What the database keeps of a one-time link: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class AdminUser(UserMixin, db.Model):
    __tablename__ = "admin_user"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="viewer")
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # Part of every session cookie of this user; a new value ends all of them.
    session_token = db.Column(db.String(64), nullable=True, default=new_token)
    # The one-time set-password link: SHA-256 of its token and when it stops working.
    password_link_digest = db.Column(db.String(64), nullable=True, unique=True, index=True)
    password_link_expires_at = db.Column(UTCDateTime, nullable=True)
    password_set = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())

    def set_password(self, password):
        """A new password also ends every session and voids any set-password link."""
        self.password_hash = hasher().hash(password)
        self.password_set = True
        self.password_link_digest = self.password_link_expires_at = None
        self.end_sessions()

    def check_password(self, password):
        try:
            return hasher().verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def end_sessions(self):
        self.session_token = new_token()

    def get_id(self):
        """Flask-Login keeps this in the session: the id plus the current session token."""
        if not self.session_token:
            self.end_sessions()
        return f"{self.id}:{self.session_token}"

    def session_matches(self, token):
        return bool(self.session_token) and hmac.compare_digest(
            self.session_token.encode(), token.encode())

    def can(self, permission):
        return self.active and permission in ROLES.get(self.role, ())

    @property
    def is_active(self):
        return self.active

    def __str__(self):
        return self.email
