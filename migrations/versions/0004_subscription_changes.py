"""subscription changes: pending records of gateway calls; pause and approval state

Revision ID: 0004
Revises: 0003_sessions
Create Date: 2026-11-29 13:30:00

"""
import sqlalchemy as sa
from alembic import op

import models._types

revision = "0004"
down_revision = "0003_sessions"  # chained after main's 0003 in this branch
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subscription_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("gateway_ref", sa.String(length=255), nullable=True),
        sa.Column("approval_url", sa.String(length=500), nullable=True),
        sa.Column("failure_message", sa.String(length=500), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models._types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", models._types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["admin_user.id"],
                                name=op.f("fk_subscription_change_created_by_id_admin_user")),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"],
                                name=op.f("fk_subscription_change_subscription_id_subscription")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_change")),
        sa.UniqueConstraint("request_key", name=op.f("uq_subscription_change_request_key")),
    )
    op.create_index(op.f("ix_subscription_change_subscription_id"), "subscription_change",
                    ["subscription_id"], unique=False)
    # plain add_column (no batch recreate): on SQLite the customer FTS triggers stay intact
    op.add_column("subscription", sa.Column("paused", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column("subscription", sa.Column(
        "pause_resumes_at", models._types.UTCDateTime(timezone=True), nullable=True))
    op.add_column("subscription", sa.Column("approval_url", sa.String(length=500),
                                            nullable=True))


def downgrade():
    with op.batch_alter_table("subscription") as batch_op:
        batch_op.drop_column("approval_url")
        batch_op.drop_column("pause_resumes_at")
        batch_op.drop_column("paused")
    op.drop_index(op.f("ix_subscription_change_subscription_id"),
                  table_name="subscription_change")
    op.drop_table("subscription_change")
