"""background jobs: job and job_row

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:30:00

"""
import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", BigId, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer()),
        sa.Column("done_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("output_key", sa.String(255)),
        sa.Column("output_name", sa.String(255)),
        sa.Column("retry_of_id", sa.BigInteger()),
        sa.Column("lease_owner", sa.String(120)),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("rate_wait_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("finished_at", UTCDateTime()),
        sa.ForeignKeyConstraint(["actor_id"], ["admin_user.id"],
                                name=op.f("fk_job_actor_id_admin_user")),
        sa.ForeignKeyConstraint(["retry_of_id"], ["job.id"], name=op.f("fk_job_retry_of_id_job")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_actor_id", "job", ["actor_id"])
    op.create_index("ix_job_created_at", "job", ["created_at"])
    op.create_table(
        "job_row",
        sa.Column("id", BigId, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.String(1000)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_row_job_id_job")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_row")),
        sa.UniqueConstraint("job_id", "target_id", name="uq_job_row_target"),
        sa.UniqueConstraint("request_key", name=op.f("uq_job_row_request_key")),
    )
    op.create_index("ix_job_row_job_state", "job_row", ["job_id", "state", "id"])


def downgrade():
    op.drop_table("job_row")
    op.drop_table("job")
