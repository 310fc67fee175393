"""job.request_key: the bulk confirmation form's one-time key (a resubmission finds its job)

Revision ID: i18_job_request_key
Revises: i17_cancel_at
"""
import sqlalchemy as sa
from alembic import op

revision = "i18_job_request_key"
down_revision = "i17_cancel_at"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("job", sa.Column("request_key", sa.String(64), nullable=True))
    op.create_index("uq_job_request_key", "job", ["request_key"], unique=True)


def downgrade():
    op.drop_index("uq_job_request_key", table_name="job")
    op.drop_column("job", "request_key")
