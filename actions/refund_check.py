"""Check refund: finish refunds whose gateway answer was lost, with their own keys."""
from flask_wtf import FlaskForm

from actions.base import ActionResult, RowAction, register
from actions.refund import check_refund


def unanswered(tx):
    return [r for r in tx.refunds if r.status == "pending" and not r.gateway_ref]


def _perform(tx, form, actor):
    results = [check_refund(r.id, actor) for r in unanswered(tx)]
    if not results:
        return ActionResult("No refund of this payment is waiting for the gateway.", "info")
    return ActionResult(" ".join(r.message for r in results),
                        "success" if all(r.category == "success" for r in results) else "info")


ACTION = register(RowAction(
    name="check_refund", title="Check refund", icon="fa-refresh", permission="refund",
    template="actions/check_refund.html", form=lambda tx: FlaskForm(), perform=_perform,
    context=lambda tx: {"refunds": unanswered(tx)}, available=lambda tx: bool(unanswered(tx)),
    submit_label="Ask the gateway again"))
