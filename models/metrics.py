"""The revenue dashboard's ledger and its figures per day (docs/METRICS.md).

MrrSpan is the ledger of monthly recurring revenue: each row says one subscription added
`mrr_cents` to the store's MRR from `starts_at` until `ends_at` (NULL: still does). It is
written by models/mrr.py in the same database transaction as every change to a subscription
(or to the payment that sets a foreign subscription's rate), never edited otherwise.
MetricsDay holds the figures of one store-local day, computed from the spans and from the
payments, refunds and disputes (actions/metrics); MetricsTouch marks the instants a change
touched, so that a refresh recomputes only from there.
"""
from models.base import db
from models._types import BigId, UTCDateTime


class MrrSpan(db.Model):
    __tablename__ = "mrr_span"
    id = db.Column(BigId, primary_key=True)
    subscription_id = db.Column(db.BigInteger, db.ForeignKey("subscription.id"),
                                nullable=False)
    customer_id = db.Column(db.BigInteger, nullable=False)
    starts_at = db.Column(UTCDateTime, nullable=False)
    ends_at = db.Column(UTCDateTime)
    # in the store currency; NULL: another currency with no settled payment yet to give a rate
    mrr_cents = db.Column(db.BigInteger)
    native_cents = db.Column(db.BigInteger, nullable=False)  # MRR in the subscription's currency
    currency = db.Column(db.String(3), nullable=False)

    __table_args__ = (
        db.Index("ix_mrr_span_subscription", "subscription_id", "starts_at"),
        db.Index("ix_mrr_span_customer", "customer_id", "starts_at"),
        db.Index("ix_mrr_span_starts", "starts_at"),
        db.Index("ix_mrr_span_ends", "ends_at"),
        # the MRR listed apart (no rate yet): a handful of rows, found without a scan
        db.Index("ix_mrr_span_apart", "currency", postgresql_where=db.text("mrr_cents IS NULL"),
                 sqlite_where=db.text("mrr_cents IS NULL")),
        db.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="span_not_empty"),
    )


#: the movement and money columns of a day, in the order the table and the JSON show them
DAY_FIGURES = ("mrr_cents", "subscribers", "new_cents", "new_count", "expansion_cents",
               "expansion_count", "reactivation_cents", "reactivation_count",
               "contraction_cents", "contraction_count", "churn_cents", "churn_count",
               "payments_cents", "payment_count", "refunds_cents", "refund_count",
               "disputes_lost_cents", "dispute_lost_count", "dispute_count")


class MetricsDay(db.Model):
    __tablename__ = "metrics_day"
    day = db.Column(db.Date, primary_key=True)
    # the instant the figures are taken at: the next day's start, or `now` for today
    computed_until = db.Column(UTCDateTime, nullable=False)
    mrr_cents = db.Column(db.BigInteger, nullable=False, default=0)
    subscribers = db.Column(db.Integer, nullable=False, default=0)
    new_cents = db.Column(db.BigInteger, nullable=False, default=0)
    new_count = db.Column(db.Integer, nullable=False, default=0)
    expansion_cents = db.Column(db.BigInteger, nullable=False, default=0)
    expansion_count = db.Column(db.Integer, nullable=False, default=0)
    reactivation_cents = db.Column(db.BigInteger, nullable=False, default=0)
    reactivation_count = db.Column(db.Integer, nullable=False, default=0)
    contraction_cents = db.Column(db.BigInteger, nullable=False, default=0)
    contraction_count = db.Column(db.Integer, nullable=False, default=0)
    churn_cents = db.Column(db.BigInteger, nullable=False, default=0)
    churn_count = db.Column(db.Integer, nullable=False, default=0)
    payments_cents = db.Column(db.BigInteger, nullable=False, default=0)
    payment_count = db.Column(db.Integer, nullable=False, default=0)
    refunds_cents = db.Column(db.BigInteger, nullable=False, default=0)
    refund_count = db.Column(db.Integer, nullable=False, default=0)
    disputes_lost_cents = db.Column(db.BigInteger, nullable=False, default=0)
    dispute_lost_count = db.Column(db.Integer, nullable=False, default=0)
    dispute_count = db.Column(db.Integer, nullable=False, default=0)


class MetricsTouch(db.Model):
    """An instant whose figures a change may have moved (append-only: no row is contended)."""

    __tablename__ = "metrics_touch"
    id = db.Column(BigId, primary_key=True)
    at = db.Column(UTCDateTime, nullable=False)
    # a payment's, refund's or dispute's instant (its money moved), not the MRR ledger's
    money = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())


class MetricsLive(db.Model):
    """Home's figures of the moment (past due, renewals, access ending, drift), as last
    counted: recounted when older than METRICS_LIVE_SECONDS or by `flask metrics refresh`."""

    __tablename__ = "metrics_live"
    id = db.Column(db.Integer, primary_key=True)  # always 1: one row
    computed_at = db.Column(UTCDateTime, nullable=False)
    figures = db.Column(db.JSON, nullable=False)
