"""The one rule for lifetime value, and the stored value that follows it.

Lifetime value = succeeded payments minus succeeded refunds, counted only in the store
currency (other currencies are never added in). The stored, indexed column
Customer.lifetime_value_cents is adjusted in the same transaction as the payment or refund;
`flask recompute-ltv` compares it with this rule.
"""
from sqlalchemy import and_, func, select, update

from models import Customer, Transaction, db


def counts(status, currency, store_currency):
    """Whether a payment in this state and currency counts toward lifetime value."""
    return status == "succeeded" and currency == store_currency


def counting_clause(store_currency):
    """The same rule as an SQL condition on Transaction."""
    return and_(Transaction.status == "succeeded", Transaction.currency == store_currency)


def adjust(customer_id, delta_cents, currency, store_currency):
    """Add delta to a customer's lifetime value in the caller's transaction (if it counts)."""
    if currency != store_currency or not delta_cents:
        return
    db.session.execute(update(Customer).where(Customer.id == customer_id).values(
        lifetime_value_cents=Customer.lifetime_value_cents + delta_cents))


def actual_ltv_subquery(store_currency):
    """customer_id -> lifetime value recomputed from the transactions."""
    return (select(Transaction.customer_id,
                   func.sum(Transaction.amount_cents - Transaction.refunded_cents).label("ltv"))
            .where(counting_clause(store_currency))
            .group_by(Transaction.customer_id).subquery())


def find_drift(store_currency):
    """[(customer_id, stored, actual)] for every customer whose stored value is wrong."""
    actual = actual_ltv_subquery(store_currency)
    value = func.coalesce(actual.c.ltv, 0)
    return db.session.execute(
        select(Customer.id, Customer.lifetime_value_cents, value)
        .outerjoin(actual, actual.c.customer_id == Customer.id)
        .where(Customer.lifetime_value_cents != value).order_by(Customer.id)).all()


def fix_drift(rows):
    """Write the recomputed values for the rows find_drift() returned; one commit."""
    for customer_id, _stored, actual in rows:
        db.session.execute(update(Customer).where(Customer.id == customer_id)
                           .values(lifetime_value_cents=actual))
    db.session.commit()
