"""A change to a subscription asked of its gateway: written `pending` before the call."""
from models.base import db
from models._types import BigId, UTCDateTime, utcnow

CHANGE_KINDS = ("price", "plan", "affiliate", "cancel", "undo_cancel", "pause", "resume")
#: awaiting_approval: PayPal accepted the change but the payer must approve it (approval_url);
#: awaiting_payment: Stripe could not take the payment the change invoiced now, and holds it
#: as a pending update (applied only if that invoice is paid before it expires)
#: withdrawn / expired: a change awaiting the payer that the admin withdrew, or that was not
#: approved in time (subscription_approval.APPROVAL_EXPIRY)
CHANGE_STATUSES = ("pending", "succeeded", "failed", "awaiting_approval", "awaiting_payment",
                   "withdrawn", "expired")
WAITING = ("awaiting_approval", "awaiting_payment")


class SubscriptionChange(db.Model):
    __tablename__ = "subscription_change"
    id = db.Column(BigId, primary_key=True)
    subscription_id = db.Column(db.BigInteger, db.ForeignKey("subscription.id"),
                                nullable=False, index=True)
    kind = db.Column(db.String(16), nullable=False)
    # What was asked, in plain values (amount_cents, plan_id, when, proration, ...), plus what
    # was read from the gateway before the call (access_until for a PayPal cancellation).
    params = db.Column(db.JSON, nullable=False, default=dict)
    # The token of the form (or job row) that asked: repeating the request finds this row.
    request_key = db.Column(db.String(64), unique=True)
    status = db.Column(db.String(20), nullable=False, default="pending")
    gateway_ref = db.Column(db.String(255))
    # The idempotency key sent with it (actions.keys); NULL on rows older than that
    gateway_key = db.Column(db.String(120))
    approval_url = db.Column(db.String(500))
    # While a request is sending this pending change to the gateway: until when (a lease,
    # committed before the call, cleared with its outcome). Another request for the same
    # change meanwhile sends nothing; after it lapses, or once its holder (sending_owner,
    # "host:pid:thread" as job leases) is a dead process of this host, the next one may.
    sending_until = db.Column(UTCDateTime)
    sending_owner = db.Column(db.String(200))
    failure_message = db.Column(db.String(500))
    created_by_id = db.Column(db.Integer, db.ForeignKey("admin_user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    completed_at = db.Column(UTCDateTime)

    subscription = db.relationship("Subscription")
    created_by = db.relationship("AdminUser")

    __table_args__ = (db.Index("uq_subscription_change_gateway_key", "gateway_key",
                               unique=True),)

    @property
    def idempotency_key(self):
        return self.gateway_key or f"subscription_change:{self.id}"
