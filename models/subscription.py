"""Plans in the catalog and customers' subscriptions to them."""
from models.base import db
from models._types import BigId, UTCDateTime

#: our one vocabulary of subscription statuses; each gateway adapter maps its vendor's words
#: onto it (actions/gateways/*_subscriptions.py STATUS) and the webhooks and sync use that
#: same table. incomplete: never paid (Stripe's first invoice, PayPal awaiting the payer);
#: unpaid: payment retries exhausted (or a Stripe trial ended without a payment method).
#: Only active, trialing and past_due give access while the period paid for lasts
#: (models/access.py); canceled keeps it until access_until.
SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "incomplete", "unpaid", "canceled")
STATUS_LABELS = {"active": "Active", "trialing": "Trialing", "past_due": "Past due",
                 "incomplete": "Incomplete", "unpaid": "Unpaid", "canceled": "Cancelled"}
INTERVALS = ("day", "week", "month", "year")


def status_label(status):
    """The one label of a subscription status, in lists, filters and the profile."""
    return STATUS_LABELS.get(status, (status or "").replace("_", " ").capitalize())


def describe_cycle(interval, count):
    """'Monthly', 'Yearly', 'Every 3 months'."""
    if count == 1:
        return {"day": "Daily", "week": "Weekly", "month": "Monthly", "year": "Yearly"}[interval]
    return f"Every {count} {interval}s"


class Plan(db.Model):
    __tablename__ = "plan"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    price_cents = db.Column(db.BigInteger, nullable=False)
    currency = db.Column(db.String(3), nullable=False)
    interval = db.Column(db.String(8), nullable=False, default="month")
    interval_count = db.Column(db.Integer, nullable=False, default=1)
    stripe_price_id = db.Column(db.String(64))
    paypal_plan_id = db.Column(db.String(64))
    active = db.Column(db.Boolean, nullable=False, default=True)

    @property
    def cycle(self):
        return describe_cycle(self.interval, self.interval_count)

    def __str__(self):
        return self.name


class Subscription(db.Model):
    __tablename__ = "subscription"
    id = db.Column(BigId, primary_key=True)
    customer_id = db.Column(db.BigInteger, db.ForeignKey("customer.id"), nullable=False)
    plan_id = db.Column(db.Integer, db.ForeignKey("plan.id"))
    name = db.Column(db.String(120), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="active")
    price_cents = db.Column(db.BigInteger, nullable=False)
    currency = db.Column(db.String(3), nullable=False)
    interval = db.Column(db.String(8), nullable=False, default="month")
    interval_count = db.Column(db.Integer, nullable=False, default=1)
    start_date = db.Column(UTCDateTime, nullable=False)
    next_payment_date = db.Column(UTCDateTime)
    current_period_end = db.Column(UTCDateTime)
    cancel_at_period_end = db.Column(db.Boolean, nullable=False, default=False)
    # An end the gateway has scheduled on a date (Stripe cancel_at); access lasts until then.
    cancel_at = db.Column(UTCDateTime)
    canceled_at = db.Column(UTCDateTime)
    access_until = db.Column(UTCDateTime)
    gateway = db.Column(db.String(16), nullable=False)
    gateway_id = db.Column(db.String(64), nullable=False)
    affiliate_id = db.Column(db.Integer, db.ForeignKey("affiliate.id"))
    # Payment collection paused (Stripe pause_collection / PayPal SUSPENDED), until a date if set.
    paused = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    pause_resumes_at = db.Column(UTCDateTime)
    # Where Stripe moved a paused subscription on to a period nobody paid for (the invoice
    # voided) and payments were collected again in that period: the end of the last period
    # paid for. Paused again before the next renewal, access ends then (models/access.py).
    # Cleared when a renewal moves the period on.
    unpaid_from = db.Column(UTCDateTime)
    # A price change "from the next renewal": price_cents is already the new price (the one
    # the gateway holds, as Stripe and PayPal report it at once); until price_from the customer
    # is still charged price_before_cents. Both are cleared once the renewal on price_from is
    # seen (webhook or sync: the period moved past it), or the price changes otherwise.
    price_before_cents = db.Column(db.BigInteger)
    price_from = db.Column(UTCDateTime)
    # A change PayPal holds until the payer approves it at this link (see SubscriptionChange).
    approval_url = db.Column(db.String(500))
    # The gateway's time of the newest state applied from it (webhook or sync).
    gateway_updated_at = db.Column(UTCDateTime)

    customer = db.relationship("Customer", back_populates="subscriptions")
    plan = db.relationship("Plan")
    affiliate = db.relationship("Affiliate")

    __table_args__ = (
        db.UniqueConstraint("gateway", "gateway_id", name="uq_subscription_gateway_id"),
        db.Index("ix_subscription_customer", "customer_id", "start_date"),
        db.Index("ix_subscription_start", "start_date", "id"),  # the list's default order
        db.Index("ix_subscription_status_next", "status", "next_payment_date"),  # Home
        db.CheckConstraint("price_cents >= 0", name="price_positive"),
    )

    @property
    def cycle(self):
        return describe_cycle(self.interval, self.interval_count)

    @property
    def status_label(self):
        return status_label(self.status)

    @property
    def price_scheduled(self):
        """A new price waits for the renewal on price_from (see price_before_cents)."""
        return self.price_from is not None and self.price_before_cents is not None

    @property
    def charged_cents(self):
        """What a cycle costs the customer today: the price before a scheduled change."""
        return self.price_before_cents if self.price_scheduled else self.price_cents

    def __str__(self):
        return self.name
