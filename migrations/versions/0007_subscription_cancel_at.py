"""subscription.cancel_at: an end the gateway has scheduled (Stripe cancel_at)

Revision ID: i17_cancel_at
Revises: 0006
Create Date: 2026-12-03 08:45:00

Only add_column (no batch recreate: SQLite keeps the customer FTS triggers).
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i17_cancel_at"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("subscription", sa.Column("cancel_at", UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("cancel_at")
