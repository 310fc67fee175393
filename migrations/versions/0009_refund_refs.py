"""our id on every gateway object: installation id, stored idempotency keys, one row per
gateway refund

Revision ID: i17_refund_refs
Revises: i18_job_request_key

- `installation`: this installation's id, made here once (part of every idempotency key).
- `refund.gateway_key`, `subscription_change.gateway_key`: the key sent to the gateway, which
  the object carries there. Existing rows keep NULL, so a pending one is retried with the key
  it was first sent with (refund:<id>, subscription_change:<id>): never a second refund.
- One row per (payment, gateway refund): rows that a webhook racing a panel refund doubled
  are removed first. Of each group the first row stays; each extra succeeded row had been
  counted a second time, so the payment's refunded total and the customer's lifetime value
  (when the row's settlement is in the store currency) get its amount back. Every removed row
  is kept in the audit log (action `refund.duplicate_removed`, its values in `before`).
Unique indexes, not constraints: no table is recreated on SQLite.
"""
import json
import os
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from models._types import UTCDateTime

revision = "i17_refund_refs"
down_revision = "i18_job_request_key"
branch_labels = None
depends_on = None

COLUMNS = ("id", "transaction_id", "amount_cents", "currency", "status", "gateway_ref",
           "settlement_cents", "settlement_currency", "created_at")


def _store_currency():
    try:
        from flask import current_app
        return current_app.config["STORE_CURRENCY"]
    except (ImportError, RuntimeError, KeyError):
        return os.environ.get("STORE_CURRENCY", "USD")


def _remove_duplicate_refunds(conn):
    store = _store_currency()
    groups = conn.execute(sa.text(
        "SELECT transaction_id, gateway_ref FROM refund WHERE gateway_ref IS NOT NULL "
        "GROUP BY transaction_id, gateway_ref HAVING COUNT(*) > 1")).all()
    now = datetime.now(timezone.utc)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    for tx_id, ref in groups:
        rows = conn.execute(sa.text(
            f"SELECT {', '.join(COLUMNS)} FROM refund WHERE transaction_id = :tx "
            "AND gateway_ref = :ref ORDER BY id"), {"tx": tx_id, "ref": ref}).mappings().all()
        customer_id = conn.execute(sa.text('SELECT customer_id FROM "transaction" '
                                           "WHERE id = :tx"), {"tx": tx_id}).scalar()
        for row in rows[1:]:
            if row["status"] == "succeeded":
                conn.execute(sa.text('UPDATE "transaction" SET refunded_cents = '
                                     "refunded_cents - :a WHERE id = :tx"),
                             {"a": row["amount_cents"], "tx": tx_id})
                if row["settlement_currency"] == store and row["settlement_cents"]:
                    conn.execute(sa.text("UPDATE customer SET lifetime_value_cents = "
                                         "lifetime_value_cents + :v WHERE id = :c"),
                                 {"v": row["settlement_cents"], "c": customer_id})
            conn.execute(sa.text("DELETE FROM refund WHERE id = :id"), {"id": row["id"]})
            before = {k: (str(v) if k == "created_at" else v) for k, v in row.items()}
            conn.execute(sa.text(
                "INSERT INTO audit_event (created_at, actor_email, action, target_type, "
                "target_id, before, outcome, gateway_ref, message) VALUES (:now, 'migration', "
                "'refund.duplicate_removed', 'transaction', :tx, :before, 'succeeded', :ref, "
                ":msg)"), {"now": now, "tx": tx_id, "before": json.dumps(before), "ref": ref,
                           "msg": f"A second row for gateway refund {ref} (kept: refund "
                                  f"#{rows[0]['id']}); its amount was counted twice."})


def upgrade():
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.bulk_insert(sa.table("installation", sa.column("id", sa.Integer()),
                            sa.column("uid", sa.String()), sa.column("created_at", UTCDateTime())),
                   [{"id": 1, "uid": uuid.uuid4().hex, "created_at": datetime.now(timezone.utc)}])
    for table in ("refund", "subscription_change"):
        op.add_column(table, sa.Column("gateway_key", sa.String(120)))
        op.create_index(f"uq_{table}_gateway_key", table, ["gateway_key"], unique=True)
    _remove_duplicate_refunds(op.get_bind())
    op.create_index("uq_refund_payment_ref", "refund", ["transaction_id", "gateway_ref"],
                    unique=True)


def downgrade():
    op.drop_index("uq_refund_payment_ref", "refund")
    for table in ("subscription_change", "refund"):
        op.drop_index(f"uq_{table}_gateway_key", table)
        op.drop_column(table, "gateway_key")
    op.drop_table("installation")
