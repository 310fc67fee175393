"""Undo Cancellation: withdraw a Stripe cancellation scheduled for the period end."""


from actions.base import RowAction
from actions.subscription_cancel import undo_cancel
from actions.subscription_changes import offered, summary
from actions.subscription_forms import KeyedForm, keyed, new_form


def _context(sub, deps):
    end = deps.day(sub.current_period_end)
    return {"summary": summary(sub, ("Cancels on", end)),
            "consequences": [f"The subscription will not end on {end}: it renews then and "
                             f"the customer is charged "
                             f"{deps.money(sub.price_cents, sub.currency)} as before."]}


ACTION = RowAction(
    name="subscription_undo_cancel", title="Undo Cancellation", icon="fa-undo",
    permission="cancel_subscription",
    form=lambda sub, deps: new_form(KeyedForm),
    perform=keyed(undo_cancel), context=_context, submit_label="Keep the subscription",
    **offered("undo_cancel"))
