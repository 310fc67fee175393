"""Bulk: refund what is left of each selected payment (Sales > Transactions)."""
from sqlalchemy import case, distinct, func, select
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from actions import ltv as ltv_rules
from actions.bulk.base import BulkAction, BulkForm, RowOutcome, outcome_of
from actions.form_checks import PlainIntegerField
from actions.permissions import require
from actions.refund import check_refund, refund_transaction
from models import Dispute, Refund, Transaction, db
from models.transaction import REFUND_REASONS


def refund_remaining_row(deps, actor, tx_id, params, request_key):
    """Refund what is left of a payment (the function computes it under its lock), at most
    once per (job, row)."""
    require(actor, "refund")
    earlier = db.session.scalar(select(Refund).where(Refund.request_key == request_key))
    if earlier is not None:
        return _earlier_outcome(deps, earlier, actor)
    result = refund_transaction(deps, actor, tx_id, None, params.get("reason", "other"),
                                params.get("note"), request_key=request_key)
    return outcome_of(result)


def _earlier_outcome(deps, refund, actor):
    """This row's refund exists already (the job was resumed): never a second one."""
    if refund.status == "pending" and not refund.gateway_ref:
        # the worker stopped between writing the refund and hearing the gateway's answer:
        # send it again with the same idempotency key (the gateway does not refund twice)
        return outcome_of(check_refund(deps, actor, refund.id))
    if refund.status == "failed":
        return RowOutcome("failed", refund.failure_message or "The gateway refused the refund.")
    return RowOutcome("done", f"Refund {refund.status} (recorded before the job resumed).")


def _tx_gateway(tx_id):
    return db.session.scalar(select(Transaction.gateway).where(Transaction.id == tx_id))


class BulkRefundForm(BulkForm):
    reason = SelectField("Reason", choices=[SelectChoice(k, v) for k, v in REFUND_REASONS.items()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=500)])
    typed_count = PlainIntegerField("Type the number of payments to refund, to confirm",
                                    validators=[InputRequired("Type the number of payments.")])

    def params(self):
        return {"reason": self.reason.data, "note": self.note.data or None}


def refund_summary(query, deps):
    """{"count": payments with something left, "selected": rows, "lines": [...], "notes"}:
    the count, the total per currency and the lifetime-value change."""
    ids = query.with_entities(Transaction.id).order_by(None).subquery()
    pending = (select(Refund.transaction_id, func.sum(Refund.amount_cents).label("cents"))
               .where(Refund.status == "pending").group_by(Refund.transaction_id).subquery())
    left = (Transaction.amount_cents - Transaction.refunded_cents - Transaction.disputed_cents
            - func.coalesce(pending.c.cents, 0))
    rows = db.session.execute(
        select(Transaction.currency, func.count(), func.sum(left),
               func.count(distinct(Transaction.customer_id)))
        .join(ids, ids.c.id == Transaction.id)
        .outerjoin(pending, pending.c.transaction_id == Transaction.id)
        .where(Transaction.status == "succeeded", left > 0)
        .group_by(Transaction.currency).order_by(Transaction.currency)).all()
    selected = db.session.scalar(select(func.count()).select_from(ids)) or 0
    count = sum(r[1] for r in rows)
    store, money = deps.store_currency, deps.money
    lines = [(f"Refund in {cur}", f"{money(total, cur)} over {n:,} payment{'s' * (n != 1)}")
             for cur, n, total, _ in rows]
    ltv = _value_change(ids, pending, left, store)
    lines.append(("Lifetime value change",
                  f"−{money(ltv[0], store)} across {ltv[1]:,} customer{'s' * (ltv[1] != 1)}"
                  if ltv[0] else f"none (no {store} payment)"))
    notes = []
    if selected > count:
        notes.append(f"{selected - count:,} selected payment(s) have nothing left to refund "
                     "(or are not successful): the job lists them as skipped.")
    return {"count": count, "selected": selected, "lines": lines, "notes": notes}


def _value_change(ids, pending, left, store):
    """(cents, customers): the lifetime value the refunds would take off — each payment's
    settlement in the store currency that is still counted (after its refunds and lost
    disputes; in proportion while a refund is pending), whatever currency it was paid in."""
    back = (select(Refund.transaction_id, func.sum(Refund.settlement_cents).label("cents"))
            .where(Refund.status == "succeeded", Refund.settlement_currency == store)
            .group_by(Refund.transaction_id).subquery())
    lost = (select(Dispute.transaction_id, func.sum(Dispute.settlement_cents).label("cents"))
            .where(Dispute.status == "lost", Dispute.settlement_currency == store)
            .group_by(Dispute.transaction_id).subquery())
    remaining = (Transaction.settlement_cents - func.coalesce(back.c.cents, 0)
                 - func.coalesce(lost.c.cents, 0))
    share = case((func.coalesce(pending.c.cents, 0) == 0, remaining),
                 else_=(Transaction.settlement_cents * left + Transaction.amount_cents // 2)
                 // Transaction.amount_cents)
    cents, customers = db.session.execute(
        select(func.sum(case((share < remaining, share), else_=remaining)),
               func.count(distinct(Transaction.customer_id)))
        .join(ids, ids.c.id == Transaction.id)
        .outerjoin(pending, pending.c.transaction_id == Transaction.id)
        .outerjoin(back, back.c.transaction_id == Transaction.id)
        .outerjoin(lost, lost.c.transaction_id == Transaction.id)
        .where(ltv_rules.counting_clause(store), left > 0)).one()
    return int(cents or 0), customers


ACTION = BulkAction(
    name="refund_remaining", title="Refund the remaining amount",
    menu="Refund remaining amount", permission="refund", model=Transaction,
    run_row=refund_remaining_row, gateway_of=_tx_gateway,
    form=BulkRefundForm, summary=refund_summary)
