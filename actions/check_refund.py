"""Check refund: finish pending refunds, whether the gateway's answer was lost (sent again
with its own key) or the gateway accepted the refund as pending (its status is asked)."""
from flask_wtf import FlaskForm

from actions.base import ActionResult, RowAction
from actions.refund import check_refund


def pending(tx):
    return [r for r in tx.refunds if r.status == "pending"]


def _perform(tx, form, actor, deps):
    results = [check_refund(deps, actor, r.id) for r in pending(tx)]
    if not results:
        return ActionResult("No refund of this payment is pending.", "info")
    return ActionResult(" ".join(r.message for r in results),
                        "success" if all(r.category == "success" for r in results) else "info")


ACTION = RowAction(
    name="check_refund", title="Check refund", icon="fa-refresh", permission="refund",
    template="actions/check_refund.html", form=lambda tx, deps: FlaskForm(), perform=_perform,
    context=lambda tx, deps: {"refunds": pending(tx)}, available=lambda tx: bool(pending(tx)),
    unavailable_message="No refund of this payment is pending.",
    submit_label="Ask the gateway")
