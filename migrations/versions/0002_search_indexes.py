"""list indexes: customer search (pg_trgm GIN / FTS5 trigram), subscriptions by start date

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00

"""
from alembic import op

# The customer search (models/queries/customer_search.py) matches any fragment of the name or
# email, case-insensitively. A LIKE '%x%' cannot use a B-tree index; these indexes make it an
# index lookup.
#
# PostgreSQL: GIN trigram indexes on lower(name) and lower(email), the exact expressions the
# search compares (`lower(col) LIKE lower(:pattern)`). Building them locks writes to customer for
# the duration (measured ~20 s at 1M customers); on a large live database run this revision at a
# quiet time.
#
# Subscriptions: (start_date, id) for the list's default order, newest first (without it
# PostgreSQL sorted all 350k subscriptions for each page: 140 ms).
#
# SQLite: an FTS5 table with the trigram tokenizer, external content on customer (only the index
# is stored, not a copy of the text), kept in sync by triggers. The update trigger fires only
# when name or email change, so lifetime-value updates do not touch the index. SQLite drops a
# table's triggers with the table: a later migration that recreates customer (batch mode) must
# run `_create_sqlite()` again.

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE customer_search USING fts5("
    "name, email, content='customer', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER customer_search_ai AFTER INSERT ON customer BEGIN "
    "INSERT INTO customer_search(rowid, name, email) VALUES (new.id, new.name, new.email); "
    "END",
    "CREATE TRIGGER customer_search_ad AFTER DELETE ON customer BEGIN "
    "INSERT INTO customer_search(customer_search, rowid, name, email) "
    "VALUES ('delete', old.id, old.name, old.email); "
    "END",
    "CREATE TRIGGER customer_search_au AFTER UPDATE OF id, name, email ON customer BEGIN "
    "INSERT INTO customer_search(customer_search, rowid, name, email) "
    "VALUES ('delete', old.id, old.name, old.email); "
    "INSERT INTO customer_search(rowid, name, email) VALUES (new.id, new.name, new.email); "
    "END",
    # Index the rows that already exist.
    "INSERT INTO customer_search(customer_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS customer_search_au",
    "DROP TRIGGER IF EXISTS customer_search_ad",
    "DROP TRIGGER IF EXISTS customer_search_ai",
    "DROP TABLE IF EXISTS customer_search",
]
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customer_name_trgm ON customer USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX ix_customer_email_trgm ON customer USING gin (lower(email) gin_trgm_ops)",
]
# PostgreSQL 14+: statistics on the two expressions (GIN indexes get none), so that the
# planner knows "@example.com" is common and "zhang" rare. Without them it guessed 0.16 %
# for any fragment, walked the date index for "zhang" and read all 1M rows (0.7 s).
POSTGRESQL_14_UP = [
    "CREATE STATISTICS IF NOT EXISTS st_customer_search ON (lower(name)), (lower(email)) "
    "FROM customer",
    "ANALYZE customer",
]
# The extension stays: other objects may use it, and dropping it needs more privileges.
POSTGRESQL_DOWN = [
    "DROP STATISTICS IF EXISTS st_customer_search",
    "DROP INDEX IF EXISTS ix_customer_email_trgm",
    "DROP INDEX IF EXISTS ix_customer_name_trgm",
]


def _create_sqlite():
    for statement in SQLITE_UP:
        op.execute(statement)


def upgrade():
    op.create_index("ix_subscription_start", "subscription", ["start_date", "id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _create_sqlite()
    elif dialect == "postgresql":
        modern = op.get_bind().dialect.server_version_info >= (14,)
        for statement in POSTGRESQL_UP + (POSTGRESQL_14_UP if modern else []):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, [])
    for statement in statements:
        op.execute(statement)
    op.drop_index("ix_subscription_start", table_name="subscription")
