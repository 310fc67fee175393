"""webhook events, disputes, sync state; settlement amounts on payments and refunds

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:30:00

Existing payments and refunds are given their own amount as settlement amount, in their own
currency: lifetime value stays what it was (only store-currency amounts count), and the sync
(`flask sync stripe|paypal`) fills in the gateways' real figures.
Only add_column on existing tables (no batch recreate: SQLite keeps the customer FTS triggers).
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "webhook_event",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("occurred_at", UTCDateTime()),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("processed_at", UTCDateTime()),
        sa.UniqueConstraint("gateway", "event_id", name="uq_webhook_event_gateway_event"),
    )
    op.create_index("ix_webhook_event_status", "webhook_event", ["status", "id"])
    op.create_index("ix_webhook_event_received", "webhook_event", ["received_at", "id"])
    op.create_table(
        "dispute",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("transaction_id", sa.BigInteger(),
                  sa.ForeignKey("transaction.id", name="fk_dispute_transaction_id_transaction"),
                  nullable=False),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("gateway_ref", sa.String(255), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("settlement_cents", sa.BigInteger()),
        sa.Column("settlement_currency", sa.String(3)),
        sa.Column("fee_cents", sa.BigInteger()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime()),
        sa.UniqueConstraint("gateway", "gateway_ref", name="uq_dispute_gateway_ref"),
    )
    op.create_index("ix_dispute_transaction", "dispute", ["transaction_id"])
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("cursor", sa.String(255)),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("result", sa.JSON()),
        sa.UniqueConstraint("gateway", "kind", name="uq_sync_state_gateway_kind"),
    )
    for table in ("transaction", "refund"):
        op.add_column(table, sa.Column("settlement_cents", sa.BigInteger()))
        op.add_column(table, sa.Column("settlement_currency", sa.String(3)))
        op.execute(f'UPDATE "{table}" SET settlement_cents = amount_cents, '
                   "settlement_currency = currency")
    op.add_column("transaction", sa.Column("fee_cents", sa.BigInteger()))
    op.add_column("customer", sa.Column("gateway_updated_at", UTCDateTime()))
    op.add_column("subscription", sa.Column("gateway_updated_at", UTCDateTime()))


def downgrade():
    op.drop_column("subscription", "gateway_updated_at")
    op.drop_column("customer", "gateway_updated_at")
    op.drop_column("transaction", "fee_cents")
    for table in ("refund", "transaction"):
        op.drop_column(table, "settlement_currency")
        op.drop_column(table, "settlement_cents")
    op.drop_table("sync_state")
    op.drop_index("ix_dispute_transaction", "dispute")
    op.drop_table("dispute")
    op.drop_index("ix_webhook_event_received", "webhook_event")
    op.drop_index("ix_webhook_event_status", "webhook_event")
    op.drop_table("webhook_event")
