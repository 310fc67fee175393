"""metrics_touch.money: whether the touch is a payment's, refund's or dispute's (its money
moved at that instant) rather than the MRR ledger's: a refresh sums again the money of the
day of a payment dated before the last refresh, and carries the rest on

Revision ID: i19_touch_money
Revises: i18_change_sender
"""
import sqlalchemy as sa
from alembic import op

revision = "i19_touch_money"
down_revision = "i18_change_sender"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("metrics_touch", sa.Column("money", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))


def downgrade():
    op.drop_column("metrics_touch", "money")
