"""Refund a payment, fully or partly, at its gateway: exactly once, audited."""
import uuid

from flask import current_app
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from actions import audit, ltv
from actions.base import ActionResult, RowAction, register
from actions.errors import GatewayError, InvalidRequest
from actions.gateways import get_gateway
from models import Refund, Transaction, db
from models.money import format_money, parse_amount, plain_amount
from models.transaction import REFUND_REASONS
from models._types import utcnow


def _money(cents, currency):
    return format_money(cents, currency, current_app.config["STORE_LOCALE"])


def _lock_transaction(tx_id):
    """The transaction row, locked until commit (SELECT ... FOR UPDATE on PostgreSQL)."""
    tx = db.session.execute(select(Transaction).where(Transaction.id == tx_id)
                            .with_for_update().execution_options(populate_existing=True)
                            ).scalar_one_or_none()
    if tx is None:
        raise InvalidRequest("This payment no longer exists.")
    return tx


def commission_reversal(tx, amount_cents):
    """The share of the commission that goes with a refund, never more than is left."""
    net = tx.net_cents
    if net <= 0 or not tx.commission_cents:
        return 0
    if amount_cents >= net:
        return tx.commission_cents
    return min(tx.commission_cents, (tx.commission_cents * amount_cents + net // 2) // net)


def _already_requested(request_key):
    if not request_key:
        return None
    return db.session.scalar(select(Refund).where(Refund.request_key == request_key))


def _duplicate_result(refund):
    amount = _money(refund.amount_cents, refund.currency)
    return ActionResult(f"This refund was already submitted ({amount}, {refund.status}); "
                        "nothing more was refunded.", "info")


def refund_transaction(tx_id, amount_cents, currency, reason, note, actor, request_key=None):
    """Refund amount_cents of a payment; returns an ActionResult or raises ActionError."""
    if reason not in REFUND_REASONS:
        raise InvalidRequest("Choose a reason for the refund.")
    tx = _lock_transaction(tx_id)
    existing = _already_requested(request_key)
    if existing is not None:
        db.session.rollback()
        return _duplicate_result(existing)
    gateway = get_gateway(tx.gateway, current_app.config)  # not configured: nothing is written
    _validate(tx, amount_cents, currency)
    refund = Refund(transaction_id=tx.id, request_key=request_key, amount_cents=amount_cents,
                    currency=tx.currency, reason=reason, note=note or None, status="pending",
                    created_by_id=getattr(actor, "id", None))
    db.session.add(refund)
    audit.record(actor, "refund.requested", tx, outcome="pending",
                 after={"amount_cents": amount_cents, "currency": tx.currency, "reason": reason})
    try:
        db.session.commit()  # the pending row exists before the gateway hears of it
    except IntegrityError:
        db.session.rollback()
        return _duplicate_result(_already_requested(request_key))
    return _call_gateway(gateway, refund.id, actor)


def _validate(tx, amount_cents, currency):
    if tx.status != "succeeded":
        raise InvalidRequest(f"Only a successful payment can be refunded; this one is {tx.status}.")
    if currency != tx.currency:
        raise InvalidRequest(
            f"This payment is in {tx.currency}; a refund in {currency} is not possible.")
    if amount_cents <= 0:
        raise InvalidRequest("Enter an amount greater than zero.")
    left = tx.refundable_cents
    if left <= 0:
        pending = tx.pending_refund_cents
        raise InvalidRequest("Nothing is left to refund on this payment" + (
            f" ({_money(pending, tx.currency)} is still pending)." if pending else "."))
    if amount_cents > left:
        raise InvalidRequest(f"Only {_money(left, tx.currency)} of this payment is left to refund.")


def _call_gateway(gateway, refund_id, actor):
    """Send the pending refund with its own idempotency key and record what came back."""
    refund = db.session.get(Refund, refund_id)
    tx = refund.transaction
    try:
        result = gateway.refund(tx.gateway_ref, refund.amount_cents, refund.currency,
                                reason=refund.reason, note=refund.note,
                                idempotency_key=refund.idempotency_key)
    except GatewayError as exc:
        _record_failure(refund_id, exc, actor)
        raise
    return _record_outcome(refund_id, result.status, result.reference,
                           result.failure_message, actor)


def _record_failure(refund_id, exc, actor):
    db.session.rollback()
    tx = _lock_transaction(db.session.get(Refund, refund_id).transaction_id)
    refund = db.session.get(Refund, refund_id)
    if exc.outcome_unknown:
        refund.failure_message = exc.message  # stays pending: "Check again" finishes it
        exc.message += (" The refund stays pending: use “Check refund” to finish it; "
                        "it cannot refund twice.")
    else:
        refund.status, refund.failure_message, refund.completed_at = "failed", exc.message, utcnow()
    audit.record(actor, "refund", tx, outcome="pending" if exc.outcome_unknown else "failed",
                 after={"refund_id": refund.id, "amount_cents": refund.amount_cents},
                 message=exc.message)
    db.session.commit()
    exc.audited = True


def _record_outcome(refund_id, status, reference, failure_message, actor, checked=False):
    """Apply the gateway's answer to refund, payment, lifetime value and commission; one commit.

    `checked`: the answer comes from a later status check, not from the refund call.
    """
    message = apply_outcome(refund_id, status, reference, failure_message, actor, checked=checked)
    if message is None:
        db.session.rollback()
        return _duplicate_result(db.session.get(Refund, refund_id))
    db.session.commit()
    return message


def apply_outcome(refund_id, status, reference, failure_message, actor, *, checked=False,
                  settlement=None):
    """The outcome of a pending refund, in the caller's transaction (no commit): None when the
    refund was already finished. A webhook or the sync passes the gateway's `settlement`
    ((cents, currency) of its balance transaction); otherwise it is proportional (actions.ltv).
    """
    tx = _lock_transaction(db.session.get(Refund, refund_id).transaction_id)
    refund = db.session.get(Refund, refund_id, populate_existing=True)  # as of the lock
    if refund.status != "pending":
        return None
    before = {"refunded_cents": tx.refunded_cents, "commission_cents": tx.commission_cents,
              "lifetime_value_cents": tx.customer.lifetime_value_cents}
    refund.gateway_ref, refund.status = reference, status
    amount = _money(refund.amount_cents, refund.currency)
    if status == "succeeded":
        refund.settlement_cents, refund.settlement_currency = (
            settlement or ltv.refund_settlement(tx, refund.amount_cents))
        tx.commission_cents -= commission_reversal(tx, refund.amount_cents)
        tx.refunded_cents += refund.amount_cents
        refund.completed_at, refund.failure_message = utcnow(), None
        ltv.adjust(tx.customer_id, -refund.settlement_cents, refund.settlement_currency)
        message = ActionResult(f"Refunded {amount} through {tx.gateway_label}.")
    elif status == "pending" and checked:
        message = ActionResult(f"The refund of {amount} is still pending at "
                               f"{tx.gateway_label}; check again later.", "info")
    elif status == "pending":
        message = ActionResult(f"{tx.gateway_label} accepted the refund of {amount}; "
                               "it is pending there.", "info")
    else:
        refund.completed_at, refund.failure_message = utcnow(), failure_message
        message = ActionResult(f"{tx.gateway_label} did not make the refund of {amount}: "
                               f"{failure_message or 'it failed'}.", "error")
    db.session.flush()
    db.session.refresh(tx.customer)
    audit.record(actor, "refund", tx, outcome=status, gateway_ref=reference, before=before,
                 after={"refund_id": refund.id, "refunded_cents": tx.refunded_cents,
                        "commission_cents": tx.commission_cents,
                        "lifetime_value_cents": tx.customer.lifetime_value_cents})
    return message


def check_refund(refund_id, actor):
    """Finish a pending refund: repeat a call whose answer was lost (same key: no double),
    or ask the gateway where a refund it accepted as pending stands now."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != "pending":
        raise InvalidRequest("This refund is not waiting for an answer from the gateway.")
    tx = refund.transaction
    gateway = get_gateway(tx.gateway, current_app.config)
    if not refund.gateway_ref:
        return _call_gateway(gateway, refund_id, actor)
    try:
        result = gateway.refund_status(refund.gateway_ref)
    except GatewayError as exc:  # a failed lookup says nothing about the refund itself
        exc.message += " The refund stays pending; “Check refund” can ask again later."
        raise
    return _record_outcome(refund_id, result.status, result.reference,
                           result.failure_message, actor, checked=True)


class RefundForm(FlaskForm):
    amount = StringField("Amount to refund", validators=[DataRequired()])
    reason = SelectField("Reason", choices=[SelectChoice(k, v) for k, v in REFUND_REASONS.items()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=500)])
    currency = HiddenField()
    request_key = HiddenField()

    def validate_amount(self, field):
        try:
            self.amount_cents = parse_amount(field.data, self.currency.data or "USD")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if self.amount_cents <= 0:
            raise ValidationError("Enter an amount greater than zero.")


def _form(tx):
    return RefundForm(amount=plain_amount(tx.refundable_cents, tx.currency),
                      currency=tx.currency, request_key=uuid.uuid4().hex)


def _perform(tx, form, actor):
    return refund_transaction(tx.id, form.amount_cents, form.currency.data, form.reason.data,
                              form.note.data, actor, request_key=form.request_key.data)


def _context(tx):
    customer = tx.customer
    settled, currency = ltv.refund_settlement(tx, tx.refundable_cents)
    counts = ltv.counts(currency)
    return {"left_cents": tx.refundable_cents,
            "ltv_after_cents": customer.lifetime_value_cents - (settled if counts else 0),
            "ltv_counts": counts, "ltv_foreign": counts and tx.currency != currency,
            "commission_reversed_cents": commission_reversal(tx, tx.refundable_cents)}


ACTION = register(RowAction(
    name="refund", title="Refund", icon="fa-undo", permission="refund",
    template="actions/refund.html", form=_form, perform=_perform, context=_context,
    available=lambda tx: tx.refundable_cents > 0, submit_label="Refund", danger=True))
