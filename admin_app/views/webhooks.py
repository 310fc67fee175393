"""Read-only list of the webhook events received, with their processing status."""
from markupsafe import Markup, escape

from admin_app.row_actions import RowActionsMixin
from admin_app.views.base import SecureModelView, datetime_formatter


def _error(view, context, model, name):
    text = model.last_error or ""
    return Markup(f'<span title="{escape(text)}">{escape(text[:120])}</span>') if text else ""


def _next_try(view, context, model, name):
    if model.status != "retrying" or model.next_attempt_at is None:
        return ""
    return Markup(f"next try at {datetime_formatter(view, context, model, name)}")


class WebhookEventView(RowActionsMixin, SecureModelView):
    permission = "webhooks"
    row_actions = ("webhook_reprocess",)
    column_list = ["received_at", "gateway", "event_type", "event_id", "status", "attempts",
                   "next_attempt_at", "last_error", "processed_at"]
    column_labels = {"event_type": "Type", "event_id": "Event id", "last_error": "Error",
                     "next_attempt_at": "Next try"}
    column_default_sort = ("received_at", True)
    column_filters = ["status", "gateway", "event_type"]
    column_searchable_list = ["event_id"]
    column_formatters = {"received_at": datetime_formatter, "processed_at": datetime_formatter,
                         "last_error": _error, "next_attempt_at": _next_try}
