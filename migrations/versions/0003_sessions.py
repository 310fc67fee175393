"""admin users: revocable sessions (session_token), one-time set-password links

Revision ID: 0003_sessions
Revises: 0002
Create Date: 2026-11-29 13:30:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

import models._types

revision = "0003_sessions"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # Plain add_column on both backends (no batch recreate of any table).
    op.add_column("admin_user", sa.Column("session_token", sa.String(length=64), nullable=True))
    op.add_column("admin_user", sa.Column("password_link_digest", sa.String(length=64),
                                          nullable=True))
    op.add_column("admin_user", sa.Column("password_link_expires_at",
                                          models._types.UTCDateTime(timezone=True),
                                          nullable=True))
    op.add_column("admin_user", sa.Column("password_set", sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    op.create_index("ix_admin_user_password_link_digest", "admin_user",
                    ["password_link_digest"], unique=True)
    # Every existing user gets a token: the sessions issued before this revision end.
    conn = op.get_bind()
    table = sa.table("admin_user", sa.column("id", sa.Integer),
                     sa.column("session_token", sa.String))
    for (user_id,) in conn.execute(sa.select(table.c.id)).all():
        conn.execute(table.update().where(table.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(32)))


def downgrade():
    op.drop_index("ix_admin_user_password_link_digest", table_name="admin_user")
    with op.batch_alter_table("admin_user") as batch:
        batch.drop_column("password_set")
        batch.drop_column("password_link_expires_at")
        batch.drop_column("password_link_digest")
        batch.drop_column("session_token")
