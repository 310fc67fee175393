"""Sales > Subscriptions: plan, status, price, cycle and dates of every subscription."""
from flask_admin.contrib.sqla.filters import FilterEqual

from admin_app.row_actions import RowActionsMixin
from admin_app.views.base import SecureModelView, datetime_formatter, money_formatter
from admin_app.views.filters import DayRangeFilter
from models import Subscription
from models.subscription import SUBSCRIPTION_STATUSES, status_label
from models.transaction import GATEWAYS


class SubscriptionView(RowActionsMixin, SecureModelView):
    row_actions = ()
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
        FilterEqual(Subscription.status, "Status",
                    options=[(s, status_label(s)) for s in SUBSCRIPTION_STATUSES]),
        DayRangeFilter(Subscription.start_date, "Start date"),
    ]
    column_formatters = {
        "status": lambda v, c, m, n: status_label(m.status),
        "price_cents": money_formatter,
        "start_date": datetime_formatter,
        "next_payment_date": datetime_formatter,
        "gateway": lambda v, c, m, n: GATEWAYS.get(m.gateway, m.gateway),
    }
