"""Re-process a stored webhook event (after fixing what made it fail): audited, idempotent."""
from flask_wtf import FlaskForm

from actions.base import ActionResult, RowAction
from actions.sync.events import reprocess


def _perform(event, form, actor, deps):
    status, error = reprocess(deps, actor, event.id)
    if status in ("processed", "ignored"):
        return ActionResult(f"Event {event.event_id} re-processed: {status}.")
    return ActionResult(f"Event {event.event_id} failed again: {error}", "error")


ACTION = RowAction(
    name="webhook_reprocess", title="Re-process", icon="fa-repeat", permission="webhooks",
    template="actions/webhook_reprocess.html", form=lambda event, deps: FlaskForm(),
    perform=_perform, submit_label="Process again")
