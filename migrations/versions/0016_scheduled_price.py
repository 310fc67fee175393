"""subscription.price_before_cents, price_from: a price change "from the next renewal" (the
new price is price_cents; the customer pays price_before_cents until price_from)

Revision ID: i21_scheduled_price
Revises: i19_customer_timeline

Only add_column (no batch recreate: SQLite keeps the customer FTS triggers).
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i21_scheduled_price"
down_revision = "i19_customer_timeline"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("subscription", sa.Column("price_before_cents", sa.BigInteger(),
                                            nullable=True))
    op.add_column("subscription", sa.Column("price_from", UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("price_from")
        batch.drop_column("price_before_cents")
