"""Undo Cancellation: withdraw a Stripe cancellation scheduled for the period end."""
import uuid

from flask_wtf import FlaskForm

from actions.base import RowAction
from actions.form_checks import request_key_field
from actions.subscription_cancel import undo_cancel
from actions.subscription_changes import offered, summary



class UndoForm(FlaskForm):
    request_key = request_key_field()


def _perform(sub, form, actor, deps):
    return undo_cancel(deps, actor, sub.id, request_key=form.request_key.data)


def _context(sub, deps):
    end = deps.day(sub.current_period_end)
    return {"summary": summary(sub, ("Cancels on", end)),
            "consequences": [f"The subscription will not end on {end}: it renews then and "
                             f"the customer is charged "
                             f"{deps.money(sub.price_cents, sub.currency)} as before."]}


ACTION = RowAction(
    name="subscription_undo_cancel", title="Undo Cancellation", icon="fa-undo",
    permission="cancel_subscription",
    form=lambda sub, deps: UndoForm(request_key=uuid.uuid4().hex),
    perform=_perform, context=_context, submit_label="Keep the subscription",
    **offered("undo_cancel"))
