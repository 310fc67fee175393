"""Append-only record of what admins did, with before/after values."""
from models.base import db
from models._types import BigId, UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    id = db.Column(BigId, primary_key=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("admin_user.id"), nullable=True)
    actor_email = db.Column(db.String(254), nullable=True)
    action = db.Column(db.String(64), nullable=False)
    target_type = db.Column(db.String(32), nullable=False)
    target_id = db.Column(db.BigInteger, nullable=True)
    before = db.Column(db.JSON, nullable=True)
    after = db.Column(db.JSON, nullable=True)
    outcome = db.Column(db.String(16), nullable=False)  # succeeded / failed / pending / denied
    gateway_ref = db.Column(db.String(255), nullable=True)
    message = db.Column(db.Text, nullable=True)
    #: the customer whose timeline shows this entry (actions.audit.TIMELINE_ACTIONS only)
    customer_id = db.Column(db.BigInteger, nullable=True)

    __table_args__ = (
        db.Index("ix_audit_target", "target_type", "target_id", "action"),
        # the Sign-ins tab and the Actor filter, newest first (migration 0013)
        db.Index("ix_audit_action_created", "action", "created_at"),
        db.Index("ix_audit_actor_created", "actor_email", "created_at"),
        # a customer's timeline, newest first (migration i19_customer_timeline)
        db.Index("ix_audit_customer", "customer_id", "created_at", "id"),
    )
