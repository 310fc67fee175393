"""Sales > Customers: the list's settings; what it does is in named mixins beside it:
the list at scale (customer_list.py), the CSV export (csv_export.py), the profile pop-up
(profile.py) with its timeline and notes (timeline.py) and avatars (avatar.py)."""
from flask import current_app, flash, request
from flask_admin.model.template import BaseListRowAction
from flask_login import current_user
from markupsafe import Markup, escape

from actions.customer_details import update_customer
from actions.errors import ActionError
from admin_app import pending_avatar
from admin_app.bulk_views import BulkActionsMixin
from admin_app.composition import deps_from_app
from admin_app.forms import CustomerForm
from admin_app.redirects import get_redirect_target
from admin_app.templating import profile_url
from admin_app.views.avatar import AvatarMixin
from admin_app.views.base import SecureModelView
from admin_app.views.csv_export import CsvExportMixin
from admin_app.lists import CUSTOMERS
from admin_app.list_filters import AmountFilter
from admin_app.views.customer_columns import OptionalColumnsMixin
from admin_app.views.customer_list import CustomerListMixin, ltv_formatter
from admin_app.views.profile import ProfileMixin
from admin_app.views.timeline import TimelineMixin
from models import db


class ProfileButton(BaseListRowAction):
    """A row's Profile button (the pop-up, ?profile=<id> in the address): written here, not
    by a template macro called for each row (issue 22)."""

    HTML = ('\n  <a class="btn btn-sm btn-primary" data-toggle="modal" '
            'data-target="#fa_modal_window"\n     data-profile="%s" title="Profile"\n'
            '     href="%s">\n    <span class="fa fa-user"></span> Profile</a>\n')

    def render(self, context, row_id, row):
        return Markup(self.HTML % (escape(row_id), escape(profile_url(row_id))))

    def page_renderer(self, context):
        """render() for every row of a page: the profile route's address split once."""
        head, tail = (escape(part) for part in profile_url(0).split("/0/", 1))
        html = self.HTML

        def render(row_id, row):
            row_id = escape(row_id)
            return Markup(html % (row_id, f"{head}/{int(row_id)}/{tail}"))
        return render


class CustomerView(OptionalColumnsMixin, CustomerListMixin, CsvExportMixin, ProfileMixin,
                   TimelineMixin, AvatarMixin, BulkActionsMixin, SecureModelView):
    list_template = "customers/list.html"
    edit_template = "customers/edit.html"
    column_list = ["name", "email", "lifetime_value_cents"]
    column_labels = {"lifetime_value_cents": "Lifetime Value"}
    column_sortable_list = ["name", "email", "lifetime_value_cents"]
    column_searchable_list = ["name", "email"]
    search_hint = "Name or email"
    column_default_sort = ("created_at", True)
    column_extra_row_actions = [ProfileButton("Profile")]
    column_formatters = {"lifetime_value_cents": ltv_formatter,
                         **OptionalColumnsMixin.column_formatters}
    # subscription status, country, lifetime value range, customer since (admin_app/lists.py)
    column_filters = list(CUSTOMERS.filters)
    form = CustomerForm
    export_types = ["csv"]
    bulk_actions = ("resend_latest_invoice",)

    @property
    def can_edit(self):
        return current_user.is_authenticated and current_user.can("edit_customer")

    def get_list_row_actions(self):
        """Only the Profile button: editing starts from the profile, as the guide describes."""
        return list(self.column_extra_row_actions)

    def get_invalid_value_msg(self, value, filter):
        """A lifetime value that is no amount: what is wrong, and how to type one."""
        if isinstance(filter, AmountFilter):
            currency = current_app.config["STORE_CURRENCY"]
            return (f"Lifetime value {filter.operation()}: {filter.problem(value)} Type an "
                    f"amount in {currency}, like 1,250.00. The filter was not applied.")
        return super().get_invalid_value_msg(value, filter)

    def edit_form(self, obj=None):
        form = CustomerForm(obj=obj, customer_id=obj.id if obj else None,
                            max_avatar_bytes=current_app.config["AVATAR_MAX_BYTES"],
                            max_avatar_pixels=current_app.config["AVATAR_MAX_PIXELS"])
        if obj is None or not obj.avatar:
            del form.remove_avatar  # nothing to remove
        return form

    def validate_form(self, form):
        """Flask-Admin's check; when it refuses, the message at the top says which field and
        why, and an avatar chosen meanwhile is kept for the form shown again."""
        if super().validate_form(form):
            return True
        if request.method == "POST":
            flash(f"Not saved — {form.errors_text()}", "error")
            self._keep_avatar(form)
        return False

    def _keep_avatar(self, form):
        if form.avatar_image is not None and form.customer_id is not None:
            if form.avatar.data and getattr(form.avatar.data, "filename", ""):
                pending_avatar.drop(form.customer_id, form.avatar_token.data)
                form.avatar_token.data = pending_avatar.keep(form.avatar_image,
                                                             form.customer_id)

    def update_model(self, form, model):
        try:
            result = update_customer(deps_from_app(), current_user, model.id, form.details(),
                                     form.avatar_image, remove_avatar=form.removing_avatar())
        except ActionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            self._keep_avatar(form)
            return False
        if form.avatar_token.data:
            pending_avatar.drop(model.id, form.avatar_token.data)
        if result.category != "success":
            flash(result.message, result.category)
        return True  # Flask-Admin then confirms "Record was successfully saved."

    def get_save_return_url(self, model, is_created=False):
        return get_redirect_target() or self.get_url(".index_view")
