"""mrr_span (the MRR ledger), metrics_day (the dashboard's figures per day), metrics_touch,
metrics_live (the figures of the moment, as last counted);
indexes for Home's live figures (past due, renewals, refunds by day)

Revision ID: i19_metrics
Revises: i21_customer_country
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i19_metrics"
down_revision = "i21_customer_country"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COUNTS = ("subscribers", "new_count", "expansion_count", "reactivation_count",
          "contraction_count", "churn_count", "payment_count", "refund_count",
          "dispute_lost_count", "dispute_count")
CENTS = ("mrr_cents", "new_cents", "expansion_cents", "reactivation_cents",
         "contraction_cents", "churn_cents", "payments_cents", "refunds_cents",
         "disputes_lost_cents")


def upgrade():
    op.create_table(
        "mrr_span",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("subscription_id", sa.BigInteger(), sa.ForeignKey("subscription.id"),
                  nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("mrr_cents", sa.BigInteger(), nullable=True),
        sa.Column("native_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="span_not_empty"),
    )
    op.create_index("ix_mrr_span_subscription", "mrr_span", ["subscription_id", "starts_at"])
    op.create_index("ix_mrr_span_customer", "mrr_span", ["customer_id", "starts_at"])
    op.create_index("ix_mrr_span_starts", "mrr_span", ["starts_at"])
    op.create_index("ix_mrr_span_ends", "mrr_span", ["ends_at"])
    op.create_index("ix_mrr_span_apart", "mrr_span", ["currency"],
                    postgresql_where=sa.text("mrr_cents IS NULL"),
                    sqlite_where=sa.text("mrr_cents IS NULL"))
    op.create_table(
        "metrics_day",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("computed_until", UTCDateTime(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in CENTS),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
    )
    op.create_table(
        "metrics_touch",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "metrics_live",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
    )
    op.create_index("ix_subscription_status_next", "subscription",
                    ["status", "next_payment_date"])
    op.create_index("ix_refund_created", "refund", ["created_at"])
    op.create_index("ix_dispute_created", "dispute", ["created_at"])


def downgrade():
    op.drop_index("ix_dispute_created", table_name="dispute")
    op.drop_index("ix_refund_created", table_name="refund")
    op.drop_index("ix_subscription_status_next", table_name="subscription")
    op.drop_table("metrics_live")
    op.drop_table("metrics_touch")
    op.drop_table("metrics_day")
    op.drop_table("mrr_span")
