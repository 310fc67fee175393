"""customer timeline: internal notes (customer_note); customer_id on refund, dispute,
audit_event and webhook_event, each indexed with its time, so that a customer's timeline reads
a page of each source by index whatever the customer's history

Revision ID: i19_customer_timeline
Revises: i17_change_sending

Refunds and disputes get their payment's customer. The audit entries the timeline shows (actions.audit.TIMELINE_ACTIONS, as of this revision)
get their customer from their target. Webhook events received before it stay unlinked (which
customer an event concerned is learnt when it is applied).
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i19_customer_timeline"
down_revision = "i17_change_sending"
branch_labels = None
depends_on = None

#: actions.audit.TIMELINE_ACTIONS when this revision was written
TIMELINE_ACTIONS = ("customer.edit", "customer.imported", "customer.synced",
                    "invoice.resend", "sale.affiliate", "subscription.imported",
                    "subscription.synced")


def upgrade():
    op.create_table(
        "customer_note",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("customer_id", sa.BigInteger(),
                  sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("admin_user.id"), nullable=True),
        sa.Column("author_email", sa.String(254), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False))
    op.create_index("ix_customer_note_customer", "customer_note",
                    ["customer_id", "created_at", "id"])
    for table in ("refund", "dispute"):
        op.add_column(table, sa.Column("customer_id", sa.BigInteger(), nullable=True))
        op.execute(f'UPDATE {table} SET customer_id = (SELECT t.customer_id FROM "transaction" t '
                   f"WHERE t.id = {table}.transaction_id)")
        op.create_index(f"ix_{table}_customer", table, ["customer_id", "created_at", "id"])
    op.add_column("audit_event", sa.Column("customer_id", sa.BigInteger(), nullable=True))
    op.add_column("webhook_event", sa.Column("customer_id", sa.BigInteger(), nullable=True))
    actions = ", ".join(f"'{a}'" for a in TIMELINE_ACTIONS)
    op.execute("UPDATE audit_event SET customer_id = target_id "
               f"WHERE target_type = 'customer' AND action IN ({actions})")
    for table in ("transaction", "subscription"):
        op.execute(f'UPDATE audit_event SET customer_id = (SELECT t.customer_id FROM "{table}" t '
                   f"WHERE t.id = audit_event.target_id) WHERE target_type = '{table}' "
                   f"AND action IN ({actions})")
    op.create_index("ix_audit_customer", "audit_event", ["customer_id", "created_at", "id"])
    op.create_index("ix_webhook_event_customer", "webhook_event",
                    ["customer_id", "received_at", "id"])


def downgrade():
    op.drop_index("ix_webhook_event_customer", table_name="webhook_event")
    op.drop_index("ix_audit_customer", table_name="audit_event")
    for table in ("webhook_event", "audit_event", "dispute", "refund"):
        if table in ("dispute", "refund"):
            op.drop_index(f"ix_{table}_customer", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("customer_id")
    op.drop_index("ix_customer_note_customer", table_name="customer_note")
    op.drop_table("customer_note")
