"""The one rule of lifetime value: what the business received, in its settlement currency.

A customer's lifetime value is the sum, over their succeeded payments, of the settlement
amount (what the gateway paid out after converting the currency, before its fee) when that
settlement is in the store currency; minus the settlement amounts of succeeded refunds and of
lost disputes. A €49 payment settled as $52.60 counts $52.60. Amounts settled in another
currency are never added in. The stored value (Customer.lifetime_value_cents) is adjusted in
the same database transaction as the payment, refund or dispute; `flask recompute-ltv` checks it
against this rule (actual_ltv_subquery).
"""
from sqlalchemy import and_, bindparam, func, literal, select, union_all, update

from models import Customer, Dispute, Refund, Transaction, db


def counts(status, settlement_currency, store_currency):
    """Whether a payment in this state, settled in this currency, counts toward the value."""
    return status == "succeeded" and settlement_currency == store_currency


def counting_clause(store_currency):
    """The same rule as an SQL condition on Transaction."""
    return and_(Transaction.status == "succeeded",
                Transaction.settlement_currency == store_currency)


#: db.session.info key: a webhook batch's lifetime-value changes, applied before its commit
_DEFERRED = "memberdesk_deferred_ltv"


def adjust(customer_id, delta_cents, currency, store_currency):
    """Add delta (a settlement amount) to a customer's lifetime value in the caller's
    transaction; amounts not in the store currency are never added in. While a batch defers
    them (defer_adjustments), the change is kept until apply_deferred()."""
    if currency != store_currency or not delta_cents:
        return
    deferred = db.session.info.get(_DEFERRED)
    if deferred is not None and customer_id is not None:
        deferred[customer_id] = deferred.get(customer_id, 0) + delta_cents
        return
    db.session.execute(update(Customer).where(Customer.id == customer_id).values(
        lifetime_value_cents=Customer.lifetime_value_cents + delta_cents))


def defer_adjustments():
    """Keep this transaction's adjustments until apply_deferred(), just before a webhook
    batch commits: the customers' rows are then locked for the batch's last statements only,
    in the order of their ids, instead of from an event in the middle of the batch to its
    commit in whatever order its events came. Two workers' batches (two lanes) touching the
    same customers then neither wait for each other's whole batch nor deadlock."""
    db.session.info[_DEFERRED] = {}


def deferred_mark():
    """What is deferred so far (for undoing one event of a batch), or None."""
    deferred = db.session.info.get(_DEFERRED)
    return None if deferred is None else dict(deferred)


def restore_deferred(mark):
    """Back to `mark` (deferred_mark()): the adjustments of an event that was undone go."""
    if mark is not None:
        db.session.info[_DEFERRED] = mark


def apply_deferred():
    """Write the deferred adjustments, one update per customer, in the order of their ids."""
    deferred = db.session.info.pop(_DEFERRED, None) or {}
    for customer_id in sorted(deferred):
        if deferred[customer_id]:
            db.session.execute(
                update(Customer).where(Customer.id == customer_id)
                .values(lifetime_value_cents=Customer.lifetime_value_cents
                        + deferred[customer_id])
                .execution_options(synchronize_session=False))


def forget_deferred():
    db.session.info.pop(_DEFERRED, None)


def stored_value(customer):
    """The customer's stored lifetime value as this transaction leaves it (what the audit
    shows), counting adjustments still deferred."""
    return customer.lifetime_value_cents + \
        (db.session.info.get(_DEFERRED) or {}).get(customer.id, 0)


def payment_value(tx):
    """(cents, currency) a succeeded payment adds: its settlement amount."""
    if tx.status != "succeeded" or tx.settlement_cents is None:
        return 0, tx.settlement_currency or tx.currency
    return tx.settlement_cents, tx.settlement_currency


def refund_settlement(tx, amount_cents):
    """(cents, currency) in the payment's settlement currency of refunding amount_cents.

    When the gateway does not say (or has not yet), the share is proportional to the payment's
    own conversion; refunding all that is left takes exactly the settlement that is left, so a
    full refund always brings the payment's value back to zero.
    """
    if tx.settlement_cents is None:
        return amount_cents, tx.currency
    refunded = sum(r.settlement_cents or 0 for r in tx.refunds if r.status == "succeeded")
    if tx.disputed_cents:  # what lost disputes took back is not there to refund
        refunded += db.session.scalar(select(func.coalesce(func.sum(Dispute.settlement_cents), 0))
                                      .where(Dispute.transaction_id == tx.id,
                                             Dispute.status == "lost"))
    if amount_cents >= tx.net_cents:
        return max(tx.settlement_cents - refunded, 0), tx.settlement_currency
    share = (tx.settlement_cents * amount_cents + tx.amount_cents // 2) // tx.amount_cents
    return min(share, max(tx.settlement_cents - refunded, 0)), tx.settlement_currency


def actual_ltv_subquery(store, gateway=None):
    """customer_id -> lifetime value recomputed by the rule above (from one gateway's payments
    only, when given)."""
    payments = (select(Transaction.customer_id, Transaction.settlement_cents.label("v"))
                .where(counting_clause(store)))
    refunds = (select(Transaction.customer_id, (-Refund.settlement_cents).label("v"))
               .join(Refund, Refund.transaction_id == Transaction.id)
               .where(Refund.status == "succeeded", Refund.settlement_currency == store))
    disputes = (select(Transaction.customer_id, (-Dispute.settlement_cents).label("v"))
                .join(Dispute, Dispute.transaction_id == Transaction.id)
                .where(Dispute.status == "lost", Dispute.settlement_currency == store))
    if gateway is not None:
        payments, refunds, disputes = (q.where(Transaction.gateway == gateway)
                                       for q in (payments, refunds, disputes))
    rows = union_all(payments, refunds, disputes).subquery()
    return (select(rows.c.customer_id, func.sum(rows.c.v).label("ltv"))
            .group_by(rows.c.customer_id).subquery())


def actual_ltv(customer_id, store_currency):
    """One customer's lifetime value by the rule (for checks and tests)."""
    sub = actual_ltv_subquery(store_currency)
    return db.session.scalar(select(func.coalesce(func.sum(sub.c.ltv), literal(0)))
                             .where(sub.c.customer_id == customer_id))


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


# Built once (every profile asks; issue 22)
_FOREIGN = select(Transaction).where(
    Transaction.customer_id == bindparam("customer_id"), Transaction.status == "succeeded",
    Transaction.currency != bindparam("store"),
    Transaction.settlement_currency == bindparam("store"))


def foreign_share(customer_id, store):
    """[(currency, net amount paid in it, what that settled at in the store currency)] for the
    payments in other currencies that count: what the profile shows beside the value."""
    totals = {}
    rows = db.session.scalars(_FOREIGN, {"customer_id": customer_id, "store": store})
    for tx in rows:
        paid, settled = totals.get(tx.currency, (0, 0))
        refunded = sum(r.settlement_cents or 0 for r in tx.refunds if r.status == "succeeded"
                       and r.settlement_currency == store)
        totals[tx.currency] = (paid + tx.net_cents, settled + tx.settlement_cents - refunded)
    return sorted((c, p, s) for c, (p, s) in totals.items())


# Built once: every list page runs it, and building the statement (and its cache key) each
# time cost several times what SQLite takes to answer it (issue 22).
_UNCOUNTED = (select(Transaction.customer_id, Transaction.currency,
                     func.sum(Transaction.amount_cents - Transaction.refunded_cents))
              .where(Transaction.customer_id.in_(bindparam("ids", expanding=True)),
                     Transaction.status == "succeeded",
                     Transaction.settlement_currency != bindparam("store"))
              .group_by(Transaction.customer_id, Transaction.currency)
              .order_by(Transaction.customer_id, Transaction.currency))


def uncounted_totals(customer_ids, store_currency):
    """{customer_id: [(currency, cents), ...]}: the payments lifetime value leaves out.

    Succeeded payments settled in a currency other than the store's (so not counted), minus
    their refunds, one total per original currency (never added together, nor to the lifetime
    value), for the given customers. Payments converted into the store currency count (see
    foreign_share).
    """
    if not customer_ids:
        return {}
    rows = db.session.execute(_UNCOUNTED, {"ids": list(customer_ids),
                                           "store": store_currency}).all()
    totals = {}
    for customer_id, currency, cents in rows:
        if cents:
            totals.setdefault(customer_id, []).append((currency, int(cents)))
    return totals
