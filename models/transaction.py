"""Payments taken through a gateway and the refunds made against them."""
from sqlalchemy import event, select

from models.base import db
from models._types import BigId, UTCDateTime, utcnow

GATEWAYS = {"stripe": "Stripe", "paypal": "PayPal"}
PAYMENT_STATUSES = ("succeeded", "pending", "failed")
REFUND_STATUSES = ("pending", "succeeded", "failed")
REFUND_REASONS = {
    "requested_by_customer": "Requested by customer",
    "duplicate": "Duplicate",
    "fraudulent": "Fraudulent",
    "other": "Other",
}


def invoice_label(number):
    """The one invoice number format, wherever an invoice is named (the PDF, the e-mail, the
    lists, the profile): 123 -> 'INV-000123'; '' for a payment without an invoice."""
    return "" if number is None else f"INV-{number:06d}"


class Transaction(db.Model):
    __tablename__ = "transaction"
    id = db.Column(BigId, primary_key=True)
    customer_id = db.Column(db.BigInteger, db.ForeignKey("customer.id"), nullable=False)
    subscription_id = db.Column(db.BigInteger, db.ForeignKey("subscription.id"))
    gateway = db.Column(db.String(16), nullable=False)
    gateway_ref = db.Column(db.String(255), nullable=False)  # pi_/ch_ id or PayPal capture id
    amount_cents = db.Column(db.BigInteger, nullable=False)  # gross, tax included
    tax_cents = db.Column(db.BigInteger, nullable=False, default=0)
    currency = db.Column(db.String(3), nullable=False)
    # Sum of succeeded refunds; changed only together with a Refund row reaching `succeeded`.
    refunded_cents = db.Column(db.BigInteger, nullable=False, default=0)
    # Taken back by lost disputes (chargebacks), in the payment's currency: neither refundable
    # nor earning commission any more. Changed only together with a Dispute becoming `lost`.
    disputed_cents = db.Column(db.BigInteger, nullable=False, default=0)
    status = db.Column(db.String(16), nullable=False, default="succeeded")
    description = db.Column(db.String(300), nullable=False, default="")
    invoice_number = db.Column(db.Integer, unique=True)
    affiliate_id = db.Column(db.Integer, db.ForeignKey("affiliate.id"))
    commission_cents = db.Column(db.BigInteger, nullable=False, default=0)
    # What the business received, as the gateway converted it (Stripe balance transaction,
    # PayPal seller_receivable_breakdown): counts toward lifetime value when in the store
    # currency (actions/ltv.py). fee_cents is the gateway's fee in settlement_currency.
    settlement_cents = db.Column(db.BigInteger)
    settlement_currency = db.Column(db.String(3))
    fee_cents = db.Column(db.BigInteger)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    customer = db.relationship("Customer", back_populates="transactions")
    subscription = db.relationship("Subscription")
    affiliate = db.relationship("Affiliate")
    refunds = db.relationship("Refund", back_populates="transaction",
                              order_by="Refund.id", lazy="selectin")

    @property
    def invoice_label(self):
        return invoice_label(self.invoice_number)

    __table_args__ = (
        db.UniqueConstraint("gateway", "gateway_ref", name="uq_transaction_gateway_ref"),
        db.Index("ix_transaction_customer_created", "customer_id", "created_at", "id"),
        db.Index("ix_transaction_created", "created_at", "id"),
        db.Index("ix_transaction_gateway_created", "gateway", "created_at"),
        # a day's money summed from the index alone (Home's figures, actions/metrics/days.py)
        db.Index("ix_transaction_created_money", "created_at", "status", "settlement_currency",
                 "settlement_cents"),
        db.CheckConstraint("amount_cents >= 0", name="amount_positive"),
        db.CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents",
                           name="refund_within_amount"),
        db.CheckConstraint("commission_cents >= 0", name="commission_positive"),
    )

    @property
    def net_cents(self):
        """What the business kept: amount minus succeeded refunds and lost disputes."""
        return max(self.amount_cents - self.refunded_cents - (self.disputed_cents or 0), 0)

    @property
    def pending_refund_cents(self):
        return sum(r.amount_cents for r in self.refunds if r.status == "pending")

    @property
    def refundable_cents(self):
        """Most that may still be refunded (pending refunds already count as spent)."""
        if self.status != "succeeded":
            return 0
        return max(self.net_cents - self.pending_refund_cents, 0)

    @property
    def refund_state(self):
        if self.refunded_cents == 0:
            return None
        return "refunded" if self.refunded_cents >= self.amount_cents else "partially refunded"

    @property
    def gateway_label(self):
        return GATEWAYS.get(self.gateway, self.gateway)

    def __str__(self):
        return f"#{self.id} {self.description}"


class Refund(db.Model):
    __tablename__ = "refund"
    id = db.Column(BigId, primary_key=True)
    transaction_id = db.Column(db.BigInteger, db.ForeignKey("transaction.id"), nullable=False,
                               index=True)
    #: the payment's customer (filled on insert, see customer_of_payment): the customer's
    #: timeline reads a page of their refunds by index, however many payments they have
    customer_id = db.Column(db.BigInteger)
    # The token of the form that asked for it: a double click or a second admin submitting
    # the same form finds this row instead of creating another refund.
    request_key = db.Column(db.String(64), nullable=True, unique=True)
    amount_cents = db.Column(db.BigInteger, nullable=False)
    currency = db.Column(db.String(3), nullable=False)
    reason = db.Column(db.String(32), nullable=False, default="requested_by_customer")
    note = db.Column(db.String(500))
    status = db.Column(db.String(16), nullable=False, default="pending")
    gateway_ref = db.Column(db.String(255))
    # The idempotency key sent with it, which the refund carries at the gateway too (Stripe
    # metadata memberdesk_key, PayPal custom_id): webhooks and the sync find the row by it.
    # Unique per installation and row (actions.keys); NULL on rows older than that (their
    # key was refund:<id>).
    gateway_key = db.Column(db.String(120))
    failure_message = db.Column(db.String(500))
    created_by_id = db.Column(db.Integer, db.ForeignKey("admin_user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    completed_at = db.Column(UTCDateTime)
    # The refund in the settlement currency (gateway's figure, or proportional to the payment's)
    settlement_cents = db.Column(db.BigInteger)
    settlement_currency = db.Column(db.String(3))

    transaction = db.relationship("Transaction", back_populates="refunds")
    created_by = db.relationship("AdminUser", lazy="joined")

    __table_args__ = (
        db.CheckConstraint("amount_cents > 0", name="amount_positive"),
        # one gateway refund is one row, however many webhooks, answers and syncs report it
        db.Index("uq_refund_payment_ref", "transaction_id", "gateway_ref", unique=True),
        db.Index("uq_refund_gateway_key", "gateway_key", unique=True),
        db.Index("ix_refund_customer", "customer_id", "created_at", "id"),
        # refunds per day, summed from the index alone (Home's figures)
        db.Index("ix_refund_created_money", "created_at", "status", "settlement_currency",
                 "settlement_cents"),
    )

    @property
    def idempotency_key(self):
        return self.gateway_key or f"refund:{self.id}"


def customer_of_payment(mapper, connection, row):
    """before_insert of a refund or dispute: its customer_id is its payment's customer."""
    if row.customer_id is None and row.transaction_id is not None:
        row.customer_id = connection.scalar(select(Transaction.customer_id).where(
            Transaction.id == row.transaction_id))


event.listen(Refund, "before_insert", customer_of_payment)
