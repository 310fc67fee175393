"""Catalog: plans and affiliates, editable by owners; the audit log, read-only."""
from flask_login import current_user
from wtforms.validators import NumberRange

from actions.form_checks import no_bidi_controls
from admin_app.views.base import SecureModelView, datetime_formatter, money_formatter



class CatalogView(SecureModelView):
    """Create and edit only with the manage_catalog permission."""

    @property
    def can_create(self):
        return current_user.is_authenticated and current_user.can("manage_catalog")

    can_edit = can_create


class PlanView(CatalogView):
    column_list = ["name", "price_cents", "currency", "cycle", "active"]
    column_labels = {"price_cents": "Price (minor units)"}
    column_formatters = {"price_cents": money_formatter}
    form_columns = ["name", "price_cents", "currency", "interval", "interval_count",
                    "stripe_price_id", "paypal_plan_id", "active"]
    form_choices = {"interval": [(i, i.capitalize()) for i in ("day", "week", "month", "year")]}
    form_args = {"name": {"validators": [no_bidi_controls]},
                 "price_cents": {"validators": [NumberRange(min=0)]},
                 "interval_count": {"validators": [NumberRange(min=1, max=36)]}}


class AffiliateView(CatalogView):
    column_list = ["name", "email", "commission_rate_bp"]
    column_labels = {"commission_rate_bp": "Commission (basis points)"}
    column_searchable_list = ["name", "email"]
    form_columns = ["name", "email", "commission_rate_bp"]
    form_args = {"name": {"validators": [no_bidi_controls]},
                 "commission_rate_bp": {"validators": [NumberRange(min=0, max=10000)]}}


class AuditView(SecureModelView):
    permission = "export"
    column_list = ["created_at", "actor_email", "action", "target_type", "target_id",
                   "outcome", "gateway_ref", "message", "before", "after"]
    column_default_sort = ("created_at", True)
    column_filters = ["action", "outcome", "target_type", "actor_email"]
    column_formatters = {"created_at": datetime_formatter}
    can_set_page_size = True


