"""Gateway events received by webhook, disputes, and the state of the backfill sync."""
from sqlalchemy import event

from models.base import db
from models.transaction import customer_of_payment
from models._types import BigId, UTCDateTime, utcnow

#: received -> processed | ignored | retrying -> ... -> failed (after WEBHOOK_MAX_ATTEMPTS)
EVENT_STATUSES = ("received", "retrying", "processed", "ignored", "failed")
DISPUTE_STATUSES = ("open", "won", "lost")


class WebhookEvent(db.Model):
    """One delivery from a gateway, stored before it is processed (unique on its event id)."""

    __tablename__ = "webhook_event"
    id = db.Column(BigId, primary_key=True)
    gateway = db.Column(db.String(16), nullable=False)
    event_id = db.Column(db.String(255), nullable=False)
    event_type = db.Column(db.String(100), nullable=False)
    occurred_at = db.Column(UTCDateTime)  # the gateway's own time of the event
    received_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    payload = db.Column(db.Text, nullable=False)  # the verified raw body, as received
    status = db.Column(db.String(16), nullable=False, default="received")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_error = db.Column(db.Text)
    processed_at = db.Column(UTCDateTime)
    #: the events of one object (customer, subscription, payment) share a lane: one worker
    #: at a time applies a lane's events, in the order they were received
    lane = db.Column(db.SmallInteger, nullable=False, default=0, server_default="0")
    #: when a failed event is tried again (scheduled, never slept in a worker)
    next_attempt_at = db.Column(UTCDateTime)
    #: the customer whose records applying it changed (their timeline lists it); None when
    #: it changed nothing of a customer's, or before it was applied
    customer_id = db.Column(db.BigInteger)

    __table_args__ = (
        db.UniqueConstraint("gateway", "event_id", name="uq_webhook_event_gateway_event"),
        db.Index("ix_webhook_event_status", "status", "id"),
        db.Index("ix_webhook_event_lane_status", "lane", "status", "id"),
        db.Index("ix_webhook_event_received", "received_at", "id"),
        db.Index("ix_webhook_event_customer", "customer_id", "received_at", "id"),
    )

    def __str__(self):
        return f"{self.gateway} {self.event_type} {self.event_id}"


class Dispute(db.Model):
    """A chargeback: the customer's bank took the payment back (lost) or not (won)."""

    __tablename__ = "dispute"
    id = db.Column(BigId, primary_key=True)
    transaction_id = db.Column(db.BigInteger, db.ForeignKey("transaction.id"), nullable=False)
    customer_id = db.Column(db.BigInteger)  # the payment's customer (filled on insert)
    gateway = db.Column(db.String(16), nullable=False)
    gateway_ref = db.Column(db.String(255), nullable=False)
    amount_cents = db.Column(db.BigInteger, nullable=False)
    currency = db.Column(db.String(3), nullable=False)
    settlement_cents = db.Column(db.BigInteger)
    settlement_currency = db.Column(db.String(3))
    fee_cents = db.Column(db.BigInteger)
    status = db.Column(db.String(16), nullable=False, default="open")
    reason = db.Column(db.String(64))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime)

    transaction = db.relationship("Transaction")

    __table_args__ = (
        db.UniqueConstraint("gateway", "gateway_ref", name="uq_dispute_gateway_ref"),
        db.Index("ix_dispute_transaction", "transaction_id"),
        db.Index("ix_dispute_customer", "customer_id", "created_at", "id"),
        db.Index("ix_dispute_created", "created_at"),  # disputes per day (the dashboard)
    )


event.listen(Dispute, "before_insert", customer_of_payment)


class SyncState(db.Model):
    """The stored cursor of a backfill sync (resumable) and the last run's result."""

    __tablename__ = "sync_state"
    id = db.Column(db.Integer, primary_key=True)
    gateway = db.Column(db.String(16), nullable=False)
    kind = db.Column(db.String(32), nullable=False)  # customers, charges, ... or "drift"
    cursor = db.Column(db.String(255))
    finished_at = db.Column(UTCDateTime)
    result = db.Column(db.JSON)

    __table_args__ = (db.UniqueConstraint("gateway", "kind", name="uq_sync_state_gateway_kind"),)
