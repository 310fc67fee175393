"""Withdraw Change: give up a change that waits for the customer's approval (PayPal), so that
the subscription can be changed again; refused on the server when nothing waits."""
from flask_wtf import FlaskForm

from actions.base import RowAction
from actions.subscription_approval import withdraw_change
from actions.subscription_changes import gateway_label, offered, summary


def _context(sub, deps):
    return {"summary": summary(sub, ("Approval link for the customer", sub.approval_url or "—"),
                               with_gateway=False),
            "consequences": [
                f"Asks {gateway_label(sub)} first: a change the customer approved already is "
                "recorded instead.",
                "Otherwise the change is withdrawn here and the subscription can be changed "
                f"again. {gateway_label(sub)} has no way to cancel the approval link itself: "
                "do not send it; if the customer still approves it, the webhook records it."]}


ACTION = RowAction(
    name="subscription_withdraw", title="Withdraw Change", icon="fa-ban",
    permission="change_subscription", form=lambda sub, deps: FlaskForm(),
    perform=lambda sub, form, actor, deps: withdraw_change(deps, actor, sub.id),
    context=_context, submit_label="Withdraw the change", danger=True,
    **offered("withdraw"))
