"""What the bulk refund's confirmation shows: the count, the total per currency and the
lifetime-value change of refunding what is left of each selected payment."""
from flask import current_app
from sqlalchemy import distinct, func, select

from admin_app.templating import money
from models import Refund, Transaction, db


def refund_summary(view, query):
    """{"count": payments with something left, "selected": rows, "lines": [...], "notes"}."""
    ids = query.with_entities(Transaction.id).order_by(None).subquery()
    pending = (select(Refund.transaction_id, func.sum(Refund.amount_cents).label("cents"))
               .where(Refund.status == "pending").group_by(Refund.transaction_id).subquery())
    left = Transaction.amount_cents - Transaction.refunded_cents - func.coalesce(pending.c.cents, 0)
    rows = db.session.execute(
        select(Transaction.currency, func.count(), func.sum(left),
               func.count(distinct(Transaction.customer_id)))
        .join(ids, ids.c.id == Transaction.id)
        .outerjoin(pending, pending.c.transaction_id == Transaction.id)
        .where(Transaction.status == "succeeded", left > 0)
        .group_by(Transaction.currency).order_by(Transaction.currency)).all()
    selected = db.session.scalar(select(func.count()).select_from(ids)) or 0
    count = sum(r[1] for r in rows)
    store = current_app.config["STORE_CURRENCY"]
    lines = [(f"Refund in {cur}", f"{money(total, cur)} over {n:,} payment{'s' * (n != 1)}")
             for cur, n, total, _ in rows]
    ltv = next(((total, customers) for cur, _, total, customers in rows if cur == store),
               (0, 0))
    lines.append(("Lifetime value change",
                  f"−{money(ltv[0], store)} across {ltv[1]:,} customer{'s' * (ltv[1] != 1)}"
                  if ltv[0] else f"none (no {store} payment)"))
    notes = []
    if selected > count:
        notes.append(f"{selected - count:,} selected payment(s) have nothing left to refund "
                     "(or are not successful): the job lists them as skipped.")
    return {"count": count, "selected": selected, "lines": lines, "notes": notes}
