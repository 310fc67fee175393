"""Sales > Subscriptions: plan, status, price, cycle and dates of every subscription, with
the subscription actions (price, plan, affiliate, cancel, pause) and an access filter."""
from flask import jsonify, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_login import current_user

from actions.errors import ActionError
from actions.subscription_preview import preview_subscription_change
from admin_app.composition import deps_from_app
from admin_app.templating import date, subscription_status
from flask_admin.actions import action

from admin_app.bulk_views import BulkActionsMixin
from admin_app.row_actions import RowActionsMixin
from admin_app.views.bulk_subscription import (BulkAffiliateForm, BulkCancelForm,
                                               BulkPriceForm, subscription_summary)
from admin_app.views.base import SecureModelView, date_formatter, money_formatter
from admin_app.views.filters import DayRangeFilter
from models import Subscription, db
from models._types import utcnow
from models.access import access_ends_within
from models.money import parse_amount
from models.sub_state import STATES, showing_next_payment, state_sql
from models.transaction import GATEWAYS

SUBSCRIPTION_ACTIONS = ["subscription_price", "subscription_plan", "subscription_affiliate",
                        "subscription_cancel", "subscription_undo_cancel",
                        "subscription_pause", "subscription_resume", "subscription_approval"]


class StateFilter(BaseSQLAFilter):
    """Status: one value per state, the same for both gateways (models/sub_state.py)."""

    def __init__(self, column, name):
        super().__init__(column, name, options=list(STATES.items()))

    def apply(self, query, value, alias=None):
        return query.filter(state_sql(value if value in STATES else "", utcnow()))

    def operation(self):
        return "is"


class AccessEndsWithinFilter(BaseSQLAFilter):
    """Access ends within N days (cancelled with access left, cancelling or paused)."""

    def __init__(self, column, name):
        super().__init__(column, name, options=[(str(n), f"{n} days") for n in (7, 14, 30)])

    def apply(self, query, value, alias=None):
        try:
            days = max(0, min(int(value), 3660))
        except (TypeError, ValueError):
            days = 7
        return query.filter(access_ends_within(utcnow(), days))

    def operation(self):
        return "within"


class SubscriptionView(BulkActionsMixin, RowActionsMixin, SecureModelView):
    row_actions = SUBSCRIPTION_ACTIONS
    bulk_actions = ("cancel_subscription", "set_subscription_affiliate",
                    "change_subscription_price")
    bulk_forms = {"cancel_subscription": (BulkCancelForm, subscription_summary),
                  "set_subscription_affiliate": (BulkAffiliateForm, subscription_summary),
                  "change_subscription_price": (BulkPriceForm, subscription_summary)}

    @action("cancel_subscription", "Cancel subscriptions")
    def action_cancel(self, ids):
        return self.bulk_redirect("cancel_subscription", ids)

    @action("set_subscription_affiliate", "Change affiliate")
    def action_affiliate(self, ids):
        return self.bulk_redirect("set_subscription_affiliate", ids)

    @action("change_subscription_price", "Change price from the next renewal")
    def action_price(self, ids):
        return self.bulk_redirect("change_subscription_price", ids)
    column_list = ["customer", "name", "status", "price_cents", "cycle", "start_date",
                   "next_payment_date", "gateway", "affiliate"]
    column_labels = {"name": "Name", "price_cents": "Total", "start_date": "Start Date",
                     "next_payment_date": "Next Payment Date", "gateway": "Payment system"}
    column_sortable_list = ["name", "status", "price_cents", "start_date", "next_payment_date"]
    column_default_sort = ("start_date", True)
    column_searchable_list = ["customer.name", "customer.email"]
    search_hint = "Customer name or email"
    column_select_related_list = [Subscription.customer, Subscription.affiliate]
    column_filters = [
        FilterEqual(Subscription.gateway, "Payment system", options=list(GATEWAYS.items())),
        StateFilter(Subscription.status, "Status"),
        DayRangeFilter(Subscription.start_date, "Start date"),
        AccessEndsWithinFilter(Subscription.current_period_end, "Access ends"),
    ]
    column_formatters = {
        "status": lambda v, c, m, n: subscription_status(m),
        "next_payment_date": lambda v, c, m, n: (date(m.next_payment_date)
                                                 if showing_next_payment(m, utcnow()) else "—"),
        "price_cents": money_formatter,
        "start_date": date_formatter,
        "gateway": lambda v, c, m, n: GATEWAYS.get(m.gateway, m.gateway),
    }

    @expose("/preview/<int:sub_id>/")
    def preview_view(self, sub_id):
        """JSON: the consequences of a price or plan change (Stripe's own figures)."""
        deps = deps_from_app()
        sub = db.session.get(Subscription, sub_id)
        args = request.args
        try:
            if args.get("kind") == "plan":
                plan = args.get("plan", "")
                lines, when = preview_subscription_change(
                    deps, current_user, sub_id, plan_id=int(plan) if plan.isdigit() else 0,
                    proration=args.get("proration", "none"))
            else:
                cents = _cents(args.get("amount", ""), sub, deps.locale)
                lines, when = preview_subscription_change(
                    deps, current_user, sub_id, amount_cents=cents,
                    effective=args.get("effective", "next_renewal"))
        except ActionError as exc:
            return jsonify(error=exc.message)
        return jsonify(lines=lines, proration_date=when)


def _cents(text, sub, locale):
    try:
        return parse_amount(text, sub.currency if sub else "USD", locale)
    except ValueError:
        return None
