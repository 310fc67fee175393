"""The audit log: read-only, for the roles that answer for money and data (view_audit)."""
from admin_app.views.base import SecureModelView, datetime_formatter


class AuditView(SecureModelView):
    permission = "view_audit"
    column_list = ["created_at", "actor_email", "action", "target_type", "target_id",
                   "outcome", "gateway_ref", "message", "before", "after"]
    column_default_sort = ("created_at", True)
    column_filters = ["action", "outcome", "target_type", "actor_email"]
    column_formatters = {"created_at": datetime_formatter}
