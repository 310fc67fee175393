"""Re-process a stored webhook event (after fixing what made it fail): audited, idempotent."""
from flask import current_app
from flask_wtf import FlaskForm

from actions.base import ActionResult, RowAction, register
from actions.sync.events import reprocess


def _perform(event, form, actor):
    status, error = reprocess(event.id, actor, current_app.config)
    if status in ("processed", "ignored"):
        return ActionResult(f"Event {event.event_id} re-processed: {status}.")
    return ActionResult(f"Event {event.event_id} failed again: {error}", "error")


ACTION = register(RowAction(
    name="webhook_reprocess", title="Re-process", icon="fa-repeat", permission="webhooks",
    template="actions/webhook_reprocess.html", form=lambda event: FlaskForm(),
    perform=_perform, submit_label="Process again"))
