"""subscription_change: sending_until, the lease of the request sending a pending change to
its gateway (a second identical request does not send it again while the first is in flight)

Revision ID: i17_change_sending
Revises: i21_audit_filters
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i17_change_sending"
down_revision = "i21_audit_filters"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("subscription_change", sa.Column("sending_until", UTCDateTime(),
                                                   nullable=True))


def downgrade():
    op.drop_column("subscription_change", "sending_until")
