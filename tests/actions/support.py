"""What the fast tier's tests share: records that exist at the gateway too, and the check that
a refusal changed nothing (our tables, the gateway, the outbox)."""
import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, settings
from sqlalchemy import select

from models import AuditEvent, Customer, Refund, Transaction, db
from tests import factories


#: the tier's property tests: few examples each (the fuzz tests elsewhere go wide); applied
#: per test, never as a profile, so other tiers keep their own numbers
FAST = settings(max_examples=15, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _cursor():
    """The SQLite cursor of the session's own connection (same transaction): the helpers
    below run about 35 plain statements per call, hundreds of times a run, and SQLAlchemy's
    work per statement cost more than SQLite's."""
    return db.session.connection().connection.dbapi_connection.cursor()


def empty_tables(keep=()):
    """Delete every row of every table except those of `keep`, and commit."""
    db.session.rollback()
    cursor = _cursor()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in keep:
            cursor.execute(f'DELETE FROM "{table.name}"')
    cursor.close()
    db.session.commit()


def start_over():
    """Empty every table but the admins': each example of a property starts from nothing."""
    empty_tables(keep=("admin_user",))


def paid(gateways, amount_cents=10000, *, customer=None, gateway="stripe", currency="USD",
         **kw):
    """A succeeded payment that the gateway holds too (so it can be refunded there)."""
    customer = customer or factories.customer()
    tx = factories.payment(customer, amount_cents, gateway=gateway, currency=currency, **kw)
    gateways[gateway].add_payment(tx.gateway_ref, amount_cents, currency)
    db.session.commit()
    return tx


def subscribed(gateways, *, gateway="stripe", plan=None, customer=None, **kw):
    """A running subscription (period 1–31 Jan 2026) that the gateway holds too."""
    plan = plan or factories.plan(stripe_price_id="price_pro", paypal_plan_id="P-PRO")
    sub = factories.subscription(customer or factories.customer(), plan, gateway=gateway, **kw)
    gateways[gateway].add_subscription(
        sub.gateway_id, sub.current_period_end, amount_cents=sub.price_cents,
        currency=sub.currency, status=sub.status if sub.status != "canceled" else "canceled",
        price_ref=plan.stripe_price_id if gateway == "stripe" else plan.paypal_plan_id)
    db.session.commit()
    return sub


def other_plan(price_cents=9900, **kw):
    plan = factories.plan(name=kw.pop("name", "Pro Plus"), price_cents=price_cents,
                          stripe_price_id=kw.pop("stripe_price_id", "price_plus"),
                          paypal_plan_id=kw.pop("paypal_plan_id", "P-PLUS"), **kw)
    db.session.commit()
    return plan


def ltv(customer_id):
    db.session.expire_all()
    return db.session.get(Customer, customer_id).lifetime_value_cents


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def refunds_of(tx_id):
    return db.session.scalars(select(Refund).where(Refund.transaction_id == tx_id)
                              .order_by(Refund.id)).all()


def audit_entries(action=None):
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.scalars(query).all()


def tables():
    """Every row of every table but the audit log, as plain values."""
    db.session.expire_all()
    cursor = _cursor()
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name == AuditEvent.__tablename__:
            continue
        rows = cursor.execute(f'SELECT * FROM "{table.name}"').fetchall()
        state[table.name] = sorted((tuple(map(repr, row)) for row in rows))
    cursor.close()
    return state


@contextlib.contextmanager
def nothing_changes(gateways, outbox=()):
    """The block changes no row (the audit log may only gain refusals), sends nothing to any
    gateway that changes anything, and sends no mail."""
    before = tables()
    seen = {name: gw.snapshot() for name, gw in gateways.items()}
    audited = len(audit_entries())
    mails = len(outbox)
    yield
    db.session.rollback()
    assert tables() == before, "a refused action changed the database"
    assert {name: gw.snapshot() for name, gw in gateways.items()} == seen, \
        "a refused action changed something at the gateway"
    new = audit_entries()[audited:]
    assert all(e.outcome in ("denied", "rejected", "failed") for e in new), \
        [(e.action, e.outcome) for e in new]
    assert len(outbox) == mails, "a refused action sent mail"


def period_day(sub, days_before_end):
    return sub.current_period_end - timedelta(days=days_before_end)


__all__ = ["paid", "subscribed", "other_plan", "ltv", "fresh", "refunds_of", "audit_entries",
           "nothing_changes", "period_day", "Transaction"]
