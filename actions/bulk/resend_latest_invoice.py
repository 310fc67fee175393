"""Bulk: e-mail each selected customer's latest invoice again (Sales > Customers)."""
from sqlalchemy import select

from actions.bulk.base import BulkAction, outcome_of
from actions.errors import InvalidRequest
from actions.invoice import resend_invoice
from actions.permissions import require
from models import Customer, Transaction, db


def latest_invoice_id(customer_id):
    return db.session.scalar(
        select(Transaction.id).where(Transaction.customer_id == customer_id,
                                     Transaction.invoice_number.is_not(None))
        .order_by(Transaction.created_at.desc(), Transaction.id.desc()).limit(1))


def resend_latest_invoice_row(deps, actor, customer_id, params, request_key):
    """Email a customer's latest invoice (the runner makes it at most once per row)."""
    require(actor, "resend_invoice")
    if db.session.get(Customer, customer_id) is None:
        raise InvalidRequest("This customer no longer exists.")
    tx_id = latest_invoice_id(customer_id)
    if tx_id is None:
        raise InvalidRequest("This customer has no invoice yet; nothing was sent.")
    return outcome_of(resend_invoice(deps, actor, tx_id))


ACTION = BulkAction(
    name="resend_latest_invoice", title="Re-send the latest invoice",
    menu="Re-send latest invoice", permission="resend_invoice", model=Customer,
    run_row=resend_latest_invoice_row, at_most_once=True)
