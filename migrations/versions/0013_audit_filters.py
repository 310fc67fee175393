"""audit_event: indexes for the audit log's tabs and filters (issue 21 item 12): the sign-ins
tab (action, newest first) and the Actor filter (actor, newest first)

Revision ID: i21_audit_filters
Revises: i18_job_chunks
"""
from alembic import op

revision = "i21_audit_filters"
down_revision = "i18_job_chunks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_action_created", "audit_event", ["action", "created_at"])
    op.create_index("ix_audit_actor_created", "audit_event", ["actor_email", "created_at"])


def downgrade():
    op.drop_index("ix_audit_actor_created", table_name="audit_event")
    op.drop_index("ix_audit_action_created", table_name="audit_event")
