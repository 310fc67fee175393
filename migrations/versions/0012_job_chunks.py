"""job_chunk: a big job's rows in chunks that every RQ worker takes (each with its own lease);
job_row.worker: which worker recorded the row's outcome (per-worker row counts)

Revision ID: i18_job_chunks
Revises: i18_webhook_lanes
"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i18_job_chunks"
down_revision = "i18_webhook_lanes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_chunk",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("job_id", sa.BigInteger(), sa.ForeignKey("job.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("first_row_id", sa.BigInteger(), nullable=False),
        sa.Column("last_row_id", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("lease_owner", sa.String(120)),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.UniqueConstraint("job_id", "number", name="uq_job_chunk_number"),
    )
    op.add_column("job_row", sa.Column("worker", sa.String(120), nullable=True))


def downgrade():
    op.drop_column("job_row", "worker")
    op.drop_table("job_chunk")
