"""Migration i19_customer_timeline: refunds, disputes and the audit entries a timeline shows
get their customer (the timeline reads them by customer); other audit entries stay unlinked."""
import importlib.util
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

from admin_app import create_app
from models import db
from tests.conftest import _config
from tests.integration.test_migration_refund_refs import fresh_url  # noqa: F401 (fixture)

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def _previous_revision():
    (path,) = VERSIONS.glob("*_customer_timeline.py")
    spec = importlib.util.spec_from_file_location("customer_timeline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.down_revision


def test_existing_rows_get_their_customer(fresh_url, tmp_path):  # noqa: F811
    app = create_app(_config(fresh_url, tmp_path))
    with app.app_context():
        upgrade(revision=_previous_revision())
        run = db.session.execute
        for cid in (1, 2):
            run(text("INSERT INTO customer (id, name, email, lifetime_value_cents, created_at) "
                     "VALUES (:id, 'C', :email, 0, :t)"),
                {"id": cid, "email": f"c{cid}@example.com", "t": "2026-01-01"})
        run(text('INSERT INTO "transaction" (id, customer_id, gateway, gateway_ref, '
                 "amount_cents, tax_cents, currency, refunded_cents, disputed_cents, status, "
                 "description, commission_cents, created_at) VALUES (7, 2, 'stripe', 'pi_7', "
                 "5000, 0, 'USD', 1000, 0, 'succeeded', 'x', 0, :t)"), {"t": "2026-01-02"})
        run(text("INSERT INTO refund (id, transaction_id, amount_cents, currency, reason, "
                 "status, created_at) VALUES (3, 7, 1000, 'USD', 'other', 'succeeded', :t)"),
            {"t": "2026-01-03"})
        run(text("INSERT INTO dispute (id, transaction_id, gateway, gateway_ref, amount_cents, "
                 "currency, status, created_at) VALUES (4, 7, 'stripe', 'dp_4', 5000, 'USD', "
                 "'open', :t)"), {"t": "2026-01-04"})
        for eid, action, target_type, target_id in (
                (1, "customer.edit", "customer", 1), (2, "invoice.resend", "transaction", 7),
                (3, "payment.imported", "transaction", 7), (4, "login", "admin_user", 1)):
            run(text("INSERT INTO audit_event (id, created_at, action, target_type, target_id, "
                     "outcome) VALUES (:id, :t, :a, :tt, :ti, 'succeeded')"),
                {"id": eid, "t": "2026-01-05", "a": action, "tt": target_type, "ti": target_id})
        db.session.commit()

        upgrade()

        assert run(text("SELECT customer_id FROM refund")).scalar() == 2
        assert run(text("SELECT customer_id FROM dispute")).scalar() == 2
        assert run(text("SELECT id, customer_id FROM audit_event ORDER BY id")).all() == [
            (1, 1), (2, 2), (3, None), (4, None)]
        db.session.remove()
        db.engine.dispose()
