"""subscription.unpaid_from: where Stripe moved a paused subscription on to a period nobody
paid for (its invoice voided) and payments were then collected again, the end of the last
period paid for; a pause in that period ends access then, not at the unpaid period's end
(models/access.py). Cleared when a renewal moves the period on.

Revision ID: i17_unpaid_from
Revises: i19_money_indexes
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i17_unpaid_from"
down_revision = "i19_money_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("subscription", sa.Column("unpaid_from", UTCDateTime(), nullable=True))


def downgrade():
    op.drop_column("subscription", "unpaid_from")
