"""Migration i17_refund_refs: refunds a webhook race had doubled are merged (money given
back, the removed row kept in the audit log), then one row per (payment, gateway refund)."""
import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import make_url

from admin_app import create_app
from models import db
from tests.conftest import _config


@pytest.fixture(params=["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL")
                                     else []))
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    url = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{url.database}_migration"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def test_doubled_refund_rows_are_merged_and_the_money_given_back(fresh_url, tmp_path):
    app = create_app(_config(fresh_url, tmp_path))
    with app.app_context():
        upgrade(revision="i18_job_request_key")
        run = db.session.execute
        run(text("INSERT INTO customer (id, name, email, lifetime_value_cents, created_at) "
                 "VALUES (1, 'Ada', 'ada@example.com', 7000, :t)"), {"t": "2026-01-01"})
        run(text('INSERT INTO "transaction" (id, customer_id, gateway, gateway_ref, '
                 "amount_cents, tax_cents, currency, refunded_cents, status, description, "
                 "commission_cents, settlement_cents, settlement_currency, created_at) VALUES "
                 "(1, 1, 'stripe', 'pi_1', 10000, 0, 'USD', 3000, 'succeeded', 'x', 0, 10000, "
                 "'USD', :t)"), {"t": "2026-01-02"})
        for rid, ref in ((1, "re_A"), (2, "re_A"), (3, "re_B")):  # re_A counted twice
            run(text("INSERT INTO refund (id, transaction_id, amount_cents, currency, reason, "
                     "status, gateway_ref, settlement_cents, settlement_currency, created_at) "
                     "VALUES (:id, 1, 1000, 'USD', 'other', 'succeeded', :ref, 1000, 'USD', "
                     ":t)"), {"id": rid, "ref": ref, "t": "2026-01-03"})
        db.session.commit()

        upgrade()

        assert run(text("SELECT id, gateway_ref FROM refund ORDER BY id")).all() == [
            (1, "re_A"), (3, "re_B")]
        assert run(text('SELECT refunded_cents FROM "transaction"')).scalar() == 2000
        assert run(text("SELECT lifetime_value_cents FROM customer")).scalar() == 8000
        audit = run(text("SELECT action, target_id, gateway_ref FROM audit_event")).all()
        assert audit == [("refund.duplicate_removed", 1, "re_A")]
        assert len(run(text("SELECT uid FROM installation")).scalar()) == 32
        with pytest.raises(IntegrityError):  # and it cannot happen again
            run(text("UPDATE refund SET gateway_ref = 're_A' WHERE id = 3"))
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
