"""payments: disputed_cents, what lost disputes took back (not refundable, no commission)

Revision ID: i17_disputed_cents
Revises: i17_refund_refs

Filled from the lost disputes already recorded, capped at what the refunds left.
"""
import sqlalchemy as sa
from alembic import op

revision = "i17_disputed_cents"
down_revision = "i17_refund_refs"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("transaction", sa.Column("disputed_cents", sa.BigInteger(), nullable=False,
                                           server_default="0"))
    op.execute('UPDATE "transaction" SET disputed_cents = (SELECT COALESCE(SUM(d.amount_cents), '
               "0) FROM dispute d WHERE d.transaction_id = \"transaction\".id AND "
               "d.status = 'lost') WHERE id IN (SELECT transaction_id FROM dispute "
               "WHERE status = 'lost')")
    op.execute('UPDATE "transaction" SET disputed_cents = amount_cents - refunded_cents '
               "WHERE disputed_cents > amount_cents - refunded_cents")


def downgrade():
    op.drop_column("transaction", "disputed_cents")
