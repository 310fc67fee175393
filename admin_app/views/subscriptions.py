"""Sales > Subscriptions: plan, status, price, cycle and dates of every subscription, with
the subscription actions (price, plan, affiliate, cancel, pause) and an access filter."""
from flask import jsonify, request
from flask_admin import expose
from flask_login import current_user

from actions.errors import ActionError
from actions.subscription_preview import preview_subscription_change
from admin_app.bulk_views import BulkActionsMixin, ListScopeMixin
from admin_app.composition import deps_from_app
from admin_app.lists import SUBSCRIPTIONS
from admin_app.templating import date, subscription_status, subscription_total
from admin_app.row_actions import RowActionsMixin
from admin_app.views.base import (SecureModelView, customer_formatter, date_formatter)
from admin_app.input_guard import is_db_id
from models import Plan, Subscription, db
from models.sub_state import showing_next_payment, shown_at
from models.money import parse_amount
from models.transaction import GATEWAYS

SUBSCRIPTION_ACTIONS = ["subscription_price", "subscription_plan", "subscription_affiliate",
                        "subscription_cancel", "subscription_undo_cancel",
                        "subscription_pause", "subscription_resume", "subscription_approval",
                        "subscription_withdraw"]


class SubscriptionView(ListScopeMixin, BulkActionsMixin, RowActionsMixin, SecureModelView):
    list_scope = SUBSCRIPTIONS  # its search and filters (admin_app/lists.py)
    row_actions = SUBSCRIPTION_ACTIONS
    bulk_actions = ("set_subscription_affiliate", "cancel_subscription",
                    "change_subscription_price")
    column_list = ["customer", "name", "status", "price_cents", "cycle", "start_date",
                   "next_payment_date", "gateway", "affiliate"]
    column_labels = {"name": "Name", "price_cents": "Total", "start_date": "Start Date",
                     "next_payment_date": "Next Payment Date", "gateway": "Payment system"}
    column_sortable_list = ["name", "status", "price_cents", "start_date", "next_payment_date"]
    column_default_sort = ("start_date", True)
    column_searchable_list = ["customer.name", "customer.email"]
    search_hint = "Customer name or email"
    column_select_related_list = [Subscription.customer, Subscription.affiliate]
    column_formatters = {
        "status": lambda v, c, m, n: subscription_status(m),
        "next_payment_date": lambda v, c, m, n: (date(m.next_payment_date)
                                                 if showing_next_payment(m, shown_at()) else "—"),
        "price_cents": lambda v, c, m, n: subscription_total(m),
        "customer": customer_formatter,
        "affiliate": lambda v, c, m, n: m.affiliate.name if m.affiliate else "",
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
                    deps, current_user, sub_id, plan_id=plan_id(plan),
                    proration=args.get("proration", "none"))
            else:
                cents = _cents(args.get("amount", ""), sub, deps.locale)
                lines, when = preview_subscription_change(
                    deps, current_user, sub_id, amount_cents=cents,
                    effective=args.get("effective", "next_renewal"))
        except ActionError as exc:
            return jsonify(error=exc.message)
        return jsonify(lines=lines, proration_date=when)


def plan_id(text):
    """The plan id a URL names, or 0 (no plan) when it is no plan's id."""
    return int(text) if is_db_id(text, Plan.id.type) else 0


def _cents(text, sub, locale):
    try:
        return parse_amount(text, sub.currency if sub else "USD", locale)
    except ValueError:
        return None
