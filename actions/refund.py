"""Refund a payment, fully or partly, at its gateway: exactly once, audited."""
import uuid
from dataclasses import dataclass

from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from actions import audit, ltv
from actions.base import ActionResult, RowAction
from actions.commission import commission_reversal
from actions.errors import GatewayError, InvalidRequest
from actions.form_checks import PositiveAmount, request_key_field
from actions.keys import new_key
from actions.locks import lock_transaction
from actions.permissions import require
from models import Refund, Transaction, db
from models.money import parse_amount, plain_amount
from models.transaction import REFUND_REASONS

REQUEST_KEY_MAX = Refund.request_key.type.length


def reversal(tx, amount_cents):
    """The commission that goes back with refunding amount_cents of this payment."""
    return commission_reversal(tx.commission_cents, tx.net_cents, amount_cents)


def _already_requested(request_key):
    if not request_key:
        return None
    return db.session.scalar(select(Refund).where(Refund.request_key == request_key))


def _duplicate_result(deps, refund):
    amount = deps.money(refund.amount_cents, refund.currency)
    return ActionResult(f"This refund was already submitted ({amount}, {refund.status}); "
                        "nothing more was refunded.", "info")


def refund_transaction(deps, actor, tx_id, amount_cents, reason, note=None, request_key=None):
    """Refund amount_cents (None: all that is left) of a payment in its own currency.

    Returns an ActionResult or raises ActionError; `request_key` makes a repeated request
    (double click, retried job row) find the first refund instead of making a second.
    """
    require(actor, "refund")
    if reason not in REFUND_REASONS:
        raise InvalidRequest("Choose a reason for the refund.")
    if request_key is not None and not 0 < len(request_key) <= REQUEST_KEY_MAX:
        raise InvalidRequest("This refund form is damaged; open it again.")
    tx = lock_transaction(tx_id)
    existing = _already_requested(request_key)
    if existing is not None:
        db.session.rollback()
        return _duplicate_result(deps, existing)
    gateway = deps.gateways(tx.gateway)  # not configured: nothing is written
    if amount_cents is None:
        amount_cents = tx.refundable_cents
    _validate(deps, tx, amount_cents)
    refund = Refund(transaction_id=tx.id, request_key=request_key, amount_cents=amount_cents,
                    currency=tx.currency, reason=reason, note=note or None, status="pending",
                    created_by_id=getattr(actor, "id", None))
    db.session.add(refund)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return _duplicate_result(deps, _already_requested(request_key))
    refund.gateway_key = new_key("refund", refund.id)
    audit.record(actor, "refund.requested", tx, outcome="pending",
                 after={"amount_cents": amount_cents, "currency": tx.currency, "reason": reason})
    try:
        db.session.commit()  # the pending row exists before the gateway hears of it
    except IntegrityError:
        db.session.rollback()
        return _duplicate_result(deps, _already_requested(request_key))
    return _call_gateway(deps, gateway, refund.id, actor)


def _validate(deps, tx, amount_cents):
    if tx.status != "succeeded":
        raise InvalidRequest(f"Only a successful payment can be refunded; this one is {tx.status}.")
    if amount_cents <= 0 and tx.refundable_cents > 0:
        raise InvalidRequest("Enter an amount greater than zero.")
    left = tx.refundable_cents
    if left <= 0:
        pending = tx.pending_refund_cents
        raise InvalidRequest("Nothing is left to refund on this payment" + (
            f" ({deps.money(pending, tx.currency)} is still pending)." if pending else "."))
    if amount_cents > left:
        raise InvalidRequest(
            f"Only {deps.money(left, tx.currency)} of this payment is left to refund.")


def _call_gateway(deps, gateway, refund_id, actor):
    """Send the pending refund with its own idempotency key and record what came back."""
    refund = db.session.get(Refund, refund_id)
    tx = refund.transaction
    try:
        result = gateway.refund(tx.gateway_ref, refund.amount_cents, refund.currency,
                                reason=refund.reason, note=refund.note,
                                idempotency_key=refund.idempotency_key)
    except GatewayError as exc:
        _record_failure(deps, refund_id, exc, actor)
        raise
    return _record_outcome(deps, refund_id, result.status, result.reference,
                           result.failure_message, actor)


def _record_failure(deps, refund_id, exc, actor):
    db.session.rollback()
    tx = lock_transaction(db.session.get(Refund, refund_id).transaction_id)
    refund = db.session.get(Refund, refund_id)
    if exc.outcome_unknown:
        refund.failure_message = exc.message  # stays pending: "Check refund" finishes it
        cause = exc.message.split(" Trying again is safe")[0].rstrip(".")  # one sentence
        exc.message = (f"{cause}; it stays pending until “Check refund” finishes it, "
                       "which never refunds twice.")
    else:
        refund.status, refund.failure_message = "failed", exc.message
        refund.completed_at = deps.clock()
    audit.record(actor, "refund", tx, outcome="pending" if exc.outcome_unknown else "failed",
                 after={"refund_id": refund.id, "amount_cents": refund.amount_cents},
                 message=exc.message)
    db.session.commit()
    exc.audited = True


def _record_outcome(deps, refund_id, status, reference, failure_message, actor, checked=False):
    """Apply the gateway's answer to refund, payment, lifetime value and commission; one commit.

    `checked`: the answer comes from a later status check, not from the refund call.
    """
    message = apply_outcome(deps, actor, refund_id, status, reference, failure_message,
                            checked=checked)
    if message is None:
        db.session.rollback()
        refund = db.session.get(Refund, refund_id)
        if refund.gateway_ref == reference and refund.status == "succeeded":
            # its webhook arrived before this answer and finished it: the same refund
            tx = refund.transaction
            return ActionResult(f"Refunded {deps.money(refund.amount_cents, refund.currency)}"
                                f" through {tx.gateway_label}.")
        return _duplicate_result(deps, refund)
    db.session.commit()
    return message


def apply_outcome(deps, actor, refund_id, status, reference, failure_message, *, checked=False,
                  settlement=None):
    """The outcome of a pending refund, in the caller's transaction (no commit); None when the
    refund was already finished. A webhook or the sync passes the gateway's `settlement`
    ((cents, currency) of its balance transaction); otherwise it is proportional (actions.ltv).
    """
    tx = lock_transaction(db.session.get(Refund, refund_id).transaction_id)
    refund = db.session.get(Refund, refund_id, populate_existing=True)  # as of the lock
    if refund.status != "pending":
        return None
    before = {"refunded_cents": tx.refunded_cents, "commission_cents": tx.commission_cents,
              "lifetime_value_cents": ltv.stored_value(tx.customer)}
    refund.gateway_ref, refund.status = reference, status
    amount = deps.money(refund.amount_cents, refund.currency)
    if status == "succeeded":
        refund.settlement_cents, refund.settlement_currency = (
            settlement or ltv.refund_settlement(tx, refund.amount_cents))
        tx.commission_cents -= reversal(tx, refund.amount_cents)
        tx.refunded_cents += refund.amount_cents
        refund.completed_at, refund.failure_message = deps.clock(), None
        ltv.adjust(tx.customer_id, -refund.settlement_cents, refund.settlement_currency,
                   deps.store_currency)
        message = ActionResult(f"Refunded {amount} through {tx.gateway_label}.")
    elif status == "pending" and checked:
        message = ActionResult(f"The refund of {amount} is still pending at "
                               f"{tx.gateway_label}; check again later.", "info")
    elif status == "pending":
        message = ActionResult(f"{tx.gateway_label} accepted the refund of {amount}; "
                               "it is pending there.", "info")
    else:
        refund.completed_at, refund.failure_message = deps.clock(), failure_message
        message = ActionResult(f"{tx.gateway_label} did not make the refund of {amount}: "
                               f"{failure_message or 'it failed'}.", "error")
    db.session.flush()
    db.session.refresh(tx.customer)
    audit.record(actor, "refund", tx, outcome=status, gateway_ref=reference, before=before,
                 after={"refund_id": refund.id, "refunded_cents": tx.refunded_cents,
                        "commission_cents": tx.commission_cents,
                        "lifetime_value_cents": ltv.stored_value(tx.customer)})
    return message


def check_refund(deps, actor, refund_id):
    """Finish a pending refund: ask the gateway where a refund it accepted as pending stands
    now; for a call whose answer was lost, look the refund up by our key first and send it
    (same key) only when the gateway has none: past the key's idempotency window (Stripe:
    24 hours) sending blindly would refund twice."""
    require(actor, "refund")
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != "pending":
        raise InvalidRequest("This refund is not waiting for an answer from the gateway.")
    tx = refund.transaction
    gateway = deps.gateways(tx.gateway)
    try:
        if refund.gateway_ref:
            result = gateway.refund_status(refund.gateway_ref)
        else:  # the answer was lost: look for the refund by our key before sending again
            result = gateway.find_refund(tx.gateway_ref, refund.idempotency_key,
                                         refund.created_at, deps.clock())
    except GatewayError as exc:  # a failed lookup says nothing about the refund itself
        exc.message += " The refund stays pending; “Check refund” can ask again later."
        raise
    if result is None:  # the gateway has no such refund: sending it cannot make a second
        return _call_gateway(deps, gateway, refund_id, actor)
    return _record_outcome(deps, refund_id, result.status, result.reference,
                           result.failure_message, actor, checked=True)


@dataclass(frozen=True)
class RefundPreview:
    """What refunding amount_cents of a payment does, figured by the rules the refund applies
    when it succeeds (apply_outcome): the settlement share (actions.ltv.refund_settlement)
    comes off the lifetime value when it is in the store currency, the commission in
    proportion (reversal). Money in minor units."""

    amount_cents: int
    currency: str
    full: bool
    ltv_counts: bool
    ltv_foreign: bool
    ltv_before_cents: int
    ltv_after_cents: int
    commission_reversed_cents: int

    def lines(self, deps, tx):
        """The confirmation's words: a heading and one line per consequence."""
        amount = deps.money(self.amount_cents, self.currency)
        heading = f"Refunding the full {amount}:" if self.full else f"Refunding {amount}:"
        lines = []
        if self.ltv_counts:
            how = (f" (this {tx.currency} payment's share of what it settled at)"
                   if self.ltv_foreign else "")
            lines.append(f"the customer's lifetime value {deps.money(self.ltv_before_cents, None)}"
                         f" → {deps.money(self.ltv_after_cents, None)}{how};")
        else:
            lines.append("the lifetime value does not change: it counts only payments settled "
                         f"in {deps.store_currency};")
        if tx.affiliate is not None:
            lines.append(f"the commission of {tx.affiliate.name} goes down by "
                         f"{deps.money(self.commission_reversed_cents, self.currency)};")
        lines.append(f"the money goes back to the customer through {tx.gateway_label}. "
                     "This cannot be undone.")
        return heading, lines


def preview_refund(deps, tx, amount_cents=None):
    """RefundPreview of refunding amount_cents (None: all that is left) of payment `tx`;
    InvalidRequest with the very message the refund itself would give."""
    left = tx.refundable_cents
    if amount_cents is None:
        amount_cents = left
    _validate(deps, tx, amount_cents)
    settled, currency = ltv.refund_settlement(tx, amount_cents)
    counts = ltv.counts(tx.status, currency, deps.store_currency)
    before = tx.customer.lifetime_value_cents
    return RefundPreview(amount_cents=amount_cents, currency=tx.currency,
                         full=amount_cents == left, ltv_counts=counts,
                         ltv_foreign=counts and tx.currency != currency,
                         ltv_before_cents=before,
                         ltv_after_cents=before - (settled if counts else 0),
                         commission_reversed_cents=reversal(tx, amount_cents))


def preview_refund_text(deps, actor, tx_id, text):
    """The refund pop-up's preview of the amount typed: (heading, lines); InvalidRequest with
    the message the form and the refund would give for that amount."""
    require(actor, "refund")
    tx = db.session.get(Transaction, tx_id)
    if tx is None:
        raise InvalidRequest("This payment no longer exists.")
    try:
        cents = parse_amount(text, tx.currency, deps.locale)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    if cents <= 0:
        raise InvalidRequest("Enter an amount greater than zero.")
    return preview_refund(deps, tx, cents).lines(deps, tx)


class RefundForm(FlaskForm):
    amount = StringField("Amount to refund", validators=[DataRequired(), PositiveAmount()])
    reason = SelectField("Reason", choices=[SelectChoice(k, v) for k, v in REFUND_REASONS.items()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=500)])
    request_key = request_key_field()

    def __init__(self, *args, currency, locale="en_US", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.locale = currency, locale  # from the payment, never the client


def _form(tx, deps):
    return RefundForm(amount=plain_amount(tx.refundable_cents, tx.currency),
                      request_key=uuid.uuid4().hex, currency=tx.currency, locale=deps.locale)


def _perform(tx, form, actor, deps):
    return refund_transaction(deps, actor, tx.id, form.amount_cents, form.reason.data,
                              form.note.data, request_key=form.request_key.data)


def _context(tx, deps):
    heading, lines = preview_refund(deps, tx).lines(deps, tx)
    return {"left_cents": tx.refundable_cents, "preview_heading": heading,
            "preview_lines": lines}


ACTION = RowAction(
    name="refund", title="Refund", icon="fa-undo", permission="refund",
    template="actions/refund.html", form=_form, perform=_perform, context=_context,
    available=lambda tx: tx.refundable_cents > 0,
    unavailable_message="Nothing is left to refund on this payment; nothing was changed.",
    submit_label="Refund", danger=True)
