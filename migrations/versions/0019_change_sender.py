"""subscription_change: sending_owner, who holds the lease on sending a pending change
("host:pid:thread", as job leases): a worker killed while sending leaves a lease that the
next request takes over at once instead of waiting for it to run out

Revision ID: i18_change_sender
Revises: i19_metrics
"""
import sqlalchemy as sa
from alembic import op

revision = "i18_change_sender"
down_revision = "i19_metrics"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("subscription_change", sa.Column("sending_owner", sa.String(200),
                                                   nullable=True))


def downgrade():
    op.drop_column("subscription_change", "sending_owner")
