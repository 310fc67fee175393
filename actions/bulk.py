"""Bulk actions: what a background job does to one row, through the same action function
as the row action (same permission and precondition checks, the job's actor).

Each `run_row(deps, actor, target_id, params, request_key)` returns a RowOutcome or raises an
ActionError (the runner records NotAllowed/InvalidRequest as "skipped", gateway and mail
failures as "failed"). `request_key` is derived from (job, row): repeating a row never acts
twice (the refund action finds its own refund by that key).
"""
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select

from actions.errors import InvalidRequest
from actions.invoice import resend_invoice
from actions.permissions import require
from actions.refund import check_refund, refund_transaction
from models import Customer, Refund, Transaction, db
from models.transaction import REFUND_REASONS

BULK_ACTIONS = {}


@dataclass(frozen=True)
class RowOutcome:
    state: str  # "done" | "skipped" | "failed"
    message: str = ""


@dataclass(frozen=True)
class BulkAction:
    """A per-row operation a job can run; `model` is what the row's target_id points at."""

    name: str
    title: str
    permission: str
    model: type
    run_row: Callable = None
    #: the gateway a row talks to (rate limit), or None when it sends no gateway request
    gateway_of: Callable = field(default=lambda target_id: None)
    #: email: mark the row "sending" (committed) before; never repeat a send on resume
    at_most_once: bool = False
    #: a job that is one piece of work (an export) instead of one call per row
    run_whole: Callable = None
    #: gateway requests one row makes (a cancel first reads the subscription)
    requests_per_row: int = 1
    #: the confirmation's button is red: it ends or refunds something
    danger: bool = False


def register(action):
    BULK_ACTIONS[action.name] = action
    return action


def outcome_of(result):
    """An ActionResult -> RowOutcome (an "error" result is the gateway saying no)."""
    return RowOutcome("failed" if result.category == "error" else "done", result.message)


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


register(BulkAction(name="refund_remaining", title="Refund the remaining amount",
                    permission="refund", model=Transaction, run_row=refund_remaining_row,
                    gateway_of=_tx_gateway))


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


register(BulkAction(name="resend_latest_invoice", title="Re-send the latest invoice",
                    permission="resend_invoice", model=Customer,
                    run_row=resend_latest_invoice_row, at_most_once=True))

__all__ = ["BULK_ACTIONS", "BulkAction", "RowOutcome", "REFUND_REASONS", "register"]
