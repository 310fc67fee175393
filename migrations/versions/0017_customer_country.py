"""customer: index for the customers list's Country filter in the list's default order
(country, newest first) (issue 21 item 9)

Revision ID: i21_customer_country
Revises: i21_scheduled_price
"""
from alembic import op

revision = "i21_customer_country"
down_revision = "i21_scheduled_price"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_customer_country", "customer", ["country", "created_at", "id"])


def downgrade():
    op.drop_index("ix_customer_country", table_name="customer")
