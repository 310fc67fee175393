"""webhook_event: lane (events of one object are applied in order by one worker at a time)
and next_attempt_at (a failed event's retry is scheduled, not slept)

Revision ID: i18_webhook_lanes
Revises: i17_disputed_cents
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i18_webhook_lanes"
down_revision = "i17_disputed_cents"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("webhook_event", sa.Column("lane", sa.SmallInteger(), nullable=False,
                                             server_default="0"))
    op.add_column("webhook_event", sa.Column("next_attempt_at", UTCDateTime(), nullable=True))
    op.create_index("ix_webhook_event_lane_status", "webhook_event", ["lane", "status", "id"])


def downgrade():
    op.drop_index("ix_webhook_event_lane_status", table_name="webhook_event")
    op.drop_column("webhook_event", "next_attempt_at")
    op.drop_column("webhook_event", "lane")
