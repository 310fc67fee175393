"""Admin users of the panel and their roles."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin

from models import db
from models._types import UTCDateTime, utcnow

_hasher = PasswordHasher()

# What each role may do; the action functions (and the views, to hide what is refused)
# check these names on the server. change_subscription: price, plan, pause / resume;
# cancel_subscription: cancel and undo (actions/subscription_*.py).
ROLES = {
    "owner": {"view", "edit_customer", "refund", "resend_invoice", "edit_affiliate", "export",
              "view_audit", "manage_catalog", "manage_admins", "change_subscription",
              "cancel_subscription", "webhooks"},
    "finance": {"view", "refund", "resend_invoice", "edit_affiliate", "export", "view_audit",
                "change_subscription", "cancel_subscription", "webhooks"},
    "support": {"view", "edit_customer", "resend_invoice", "edit_affiliate"},
    "viewer": {"view"},
}


class AdminUser(UserMixin, db.Model):
    __tablename__ = "admin_user"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="viewer")
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    def set_password(self, password):
        self.password_hash = _hasher.hash(password)

    def check_password(self, password):
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def can(self, permission):
        return self.active and permission in ROLES.get(self.role, ())

    @property
    def is_active(self):
        return self.active

    def __str__(self):
        return self.email
