"""Sales > Customers: the list's settings; what it does is in named mixins beside it:
the list at scale (customer_list.py), its optional columns (customer_columns.py), the CSV
export (csv_export.py), the profile pop-up and its button (profile.py) with its timeline and
notes (timeline.py), editing a customer (customer_edit.py) and avatars (avatar.py)."""
from admin_app.bulk_views import BulkActionsMixin
from admin_app.lists import CUSTOMERS
from admin_app.views.avatar import AvatarMixin
from admin_app.views.base import SecureModelView
from admin_app.views.csv_export import CsvExportMixin
from admin_app.views.customer_columns import OptionalColumnsMixin
from admin_app.views.customer_edit import CustomerEditMixin
from admin_app.views.customer_list import CustomerListMixin, ltv_formatter
from admin_app.views.profile import ProfileMixin
from admin_app.views.timeline import TimelineMixin


class CustomerView(OptionalColumnsMixin, CustomerListMixin, CsvExportMixin, ProfileMixin,
                   TimelineMixin, CustomerEditMixin, AvatarMixin, BulkActionsMixin,
                   SecureModelView):
    list_template = "customers/list.html"
    edit_template = "customers/edit.html"
    column_list = ["name", "email", "lifetime_value_cents"]
    column_labels = {"lifetime_value_cents": "Lifetime Value"}
    column_sortable_list = ["name", "email", "lifetime_value_cents"]
    column_searchable_list = ["name", "email"]
    search_hint = "Name or email"
    column_default_sort = ("created_at", True)
    column_formatters = {"lifetime_value_cents": ltv_formatter,
                         **OptionalColumnsMixin.column_formatters}
    # subscription status, country, lifetime value range, customer since (admin_app/lists.py)
    column_filters = list(CUSTOMERS.filters)
    export_types = ["csv"]
    bulk_actions = ("resend_latest_invoice",)
