"""Sales > Customers: the list, its CSV export, the profile pop-up, edit details and avatar."""
from flask import (Response, abort, current_app, flash, g, has_request_context, redirect,
                   request, send_file, stream_with_context, url_for)
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import TemplateLinkRowAction
from markupsafe import Markup, escape
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from actions import get_action, ltv
from actions.customer_details import update_customer
from actions.errors import ActionError, NotAllowed
from actions.export import export_customers, export_filename, export_scope, selected_ids
from actions.bulk.export_customers import export_job_scope
from actions.ltv import uncounted_totals
from admin_app.bulk_views import BulkActionsMixin
from admin_app.composition import deps_from_app
from admin_app.filestore import avatar_store
from admin_app.lists import CUSTOMERS
from admin_app.jobs import create_job
from admin_app.forms import CustomerForm
from admin_app.input_guard import page_number
from admin_app.redirects import get_redirect_target
from admin_app.templating import money
from admin_app.views.base import SecureModelView, money_formatter
from models.queries.counting import ListCount, at_least, capped_count
from models.queries.customer_search import plan_search
from admin_app.views.subscriptions import SubscriptionView
from admin_app.views.transactions import TransactionView
from models import Customer, Subscription, Transaction, db

PROFILE_PAGE_SIZE = 25
# Sorts a search may follow down their index (models/customer.py) instead of sorting matches.
WALKABLE_SORTS = (None, "lifetime_value_cents")


def uncounted_text(totals):
    """'+ €49.00 not counted' for each other currency's total."""
    return [f"+ {money(cents, currency)} not counted" for currency, cents in totals]


def _ltv_formatter(view, context, model, name):
    """The lifetime value, with what other currencies' payments add (not counted in it)."""
    value = escape(money_formatter(view, context, model, name))
    extra = uncounted_text(g.get("uncounted", {}).get(model.id, ()))
    if not extra:
        return value
    hint = ("Payments in other currencies are not added to the lifetime value "
            "(it counts " + current_app.config["STORE_CURRENCY"] + " only).")
    return value + Markup(" ").join(
        Markup('<div class="md-uncounted small text-muted" title="{}">{}</div>').format(hint, t)
        for t in extra)


class CustomerView(BulkActionsMixin, SecureModelView):
    list_scope = CUSTOMERS
    list_template = "customers/list.html"
    edit_template = "customers/edit.html"
    column_list = ["name", "email", "lifetime_value_cents"]
    column_labels = {"lifetime_value_cents": "Lifetime Value"}
    column_sortable_list = ["name", "email", "lifetime_value_cents"]
    column_searchable_list = ["name", "email"]
    search_hint = "Name or email"
    column_default_sort = ("created_at", True)
    column_extra_row_actions = [TemplateLinkRowAction("memberdesk.profile_button", "Profile")]
    column_formatters = {"lifetime_value_cents": _ltv_formatter}
    form = CustomerForm
    export_types = ["csv"]
    bulk_actions = ("resend_latest_invoice",)

    @property
    def can_edit(self):
        return current_user.is_authenticated and current_user.can("edit_customer")

    @property
    def can_export(self):
        return current_user.is_authenticated and current_user.can("export")

    def get_list_row_actions(self):
        """Only the Profile button: editing starts from the profile, as the guide describes."""
        return list(self.column_extra_row_actions)

    def is_action_allowed(self, name):
        if name == "export_selected":
            return self.can_export
        return super().is_action_allowed(name)

    def export_query(self, sort_column=None, sort_desc=False, search=None, filters=None):
        """The list's query (search, filters, sort with id tie-breaker), unpaged and uncounted."""
        query, joins = self.get_query(), {}
        plan = plan_search(db.session, search, walkable=False) if self._search_supported else None
        if plan is not None:
            query = query.filter(plan.clause)
        if filters and self._filters:
            query, _, joins, _ = self._apply_filters(query, None, joins, {}, filters)
        return self._apply_sorting(query, joins, sort_column, sort_desc)[0]

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Name or email contains every term, answered from the search indexes (migration 0002)."""
        offset, page_size, sort = 0, self.page_size, None
        if has_request_context():
            args = self._get_list_extra_args()
            page_size = self.get_safe_page_size(args.page_size)
            offset = (args.page or 0) * page_size
            sort = (self._get_column_by_idx(args.sort) or (None,))[0]
        plan = plan_search(db.session, search, offset, page_size, sort in WALKABLE_SORTS)
        if plan is None:
            return query, count_query, joins, count_joins
        g.customer_search_plan = plan
        if count_query is not None:
            count_query = count_query.filter(plan.clause)
        return query.filter(plan.clause), count_query, joins, count_joins

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """The page's rows, and what payments in other currencies add for them (one query)."""
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters,
                                       execute=execute, page_size=page_size)
        if execute and has_request_context():
            g.uncounted = uncounted_totals([row.id for row in rows],
                                           current_app.config["STORE_CURRENCY"])
        return count, rows

    def list_count(self, query, page, page_size, rows, whole_table):
        """Exact whenever the search can be counted cheaply (up to the cap), else bounded."""
        plan = g.pop("customer_search_plan", None)
        if plan is None or self._filters:
            return super().list_count(query, page, page_size, rows, whole_table)
        seen = page * page_size + len(rows)
        if len(rows) < page_size and (rows or page == 0):
            return ListCount(seen)
        if plan.exact:
            return ListCount(plan.count)
        if not plan.countable:  # one or two letters: only a scan could count them
            return at_least(seen, page_size, len(rows))
        counted = plan.count_query(db.session)  # SQLite: from the FTS table, not the walk
        return super().list_count(query if counted is None else counted, page, page_size,
                                  rows, whole_table)

    def _export_data(self):
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        return None, self.export_query(sort[0] if sort else None, args.sort_desc, args.search,
                                       args.filters)

    def export_scope(self):
        """The list's search and filters (column, operation, value), for the audit entry."""
        args = self._get_list_extra_args()
        filters = [[name, self._filters[index].operation(), value]
                   for index, name, value in args.filters or ()]
        return export_scope(search=args.search, filters=filters)

    def get_export_name(self, export_type="csv"):
        return export_filename()

    def export_url(self, bom=False):
        """The export link for the list as it is shown (search, filters and sort kept)."""
        skip = ("page", "page_size", "profile", "tab", "bom", "export_type")
        args = {k: v for k, v in request.args.items() if k not in skip}
        return self.get_url(".export", export_type="csv", **args, **({"bom": 1} if bom else {}))

    def csv_response(self, query, scope):
        try:
            chunks = export_customers(query, scope, current_user,
                                      current_app.config["STORE_CURRENCY"],
                                      bom=request.values.get("bom") == "1")
        except NotAllowed:
            abort(403)
        return Response(stream_with_context(chunks), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{self.get_export_name()}"',
            "Cache-Control": "private, no-store", "X-Accel-Buffering": "no"})

    @expose("/export/<export_type>/")
    def export(self, export_type):
        if not self.can_export:
            abort(403)
        if export_type not in self.export_types:
            abort(404)
        return self._export_csv(None)

    def _export_csv(self, return_url):
        query = self._export_data()[1]
        threshold = current_app.config["EXPORT_JOB_THRESHOLD"]
        if capped_count(query.order_by(None), Customer, threshold + 1) > threshold:
            return self._export_job()
        return self.csv_response(query, self.export_scope())

    def _export_job(self):
        """Too large to stream within one request: a job writes the file, its page links it."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        scope = export_job_scope(args.search, args.filters, sort[0] if sort else None,
                                 args.sort_desc, request.values.get("bom") == "1")
        job = create_job(current_user, "export_customers", scope)
        flash(f"The export is large: job #{job.id} writes the file; download it from here "
              "when it is done.", "info")
        return redirect(url_for("jobs.job_view", job_id=job.id))

    @action("export_selected", "Export selected")
    def action_export_selected(self, ids):
        if not self.can_export:
            abort(403)
        chosen = selected_ids(ids)
        return self.csv_response(self.export_query().filter(Customer.id.in_(chosen)),
                                 export_scope(ids=chosen))

    def edit_form(self, obj=None):
        return CustomerForm(obj=obj, customer_id=obj.id if obj else None,
                            max_avatar_bytes=current_app.config["AVATAR_MAX_BYTES"],
                            max_avatar_pixels=current_app.config["AVATAR_MAX_PIXELS"])

    def update_model(self, form, model):
        try:
            result = update_customer(deps_from_app(), current_user, model.id, form.details(),
                                     form.avatar_image)
        except ActionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return False
        if result.category != "success":
            flash(result.message, result.category)
        return True  # Flask-Admin then confirms "Record was successfully saved."

    def get_save_return_url(self, model, is_created=False):
        return get_redirect_target() or self.get_url(".index_view")

    @expose("/profile/<int:customer_id>/")
    def profile_view(self, customer_id):
        customer = db.session.get(Customer, customer_id) or abort(404)
        page = page_number(max(request.args.get("tx_page", 0, type=int), 0), PROFILE_PAGE_SIZE,
                           "transactions page")
        rows = db.session.scalars(
            select(Transaction)
            .options(selectinload(Transaction.refunds), joinedload(Transaction.affiliate))
            .where(Transaction.customer_id == customer_id)
            .order_by(Transaction.created_at.desc(), Transaction.id.desc())
            .limit(PROFILE_PAGE_SIZE + 1).offset(page * PROFILE_PAGE_SIZE)).all()
        subscriptions = db.session.scalars(
            select(Subscription).options(joinedload(Subscription.affiliate))
            .where(Subscription.customer_id == customer_id)
            .order_by(Subscription.start_date.desc(), Subscription.id.desc())).all()
        return self.render(
            "customers/profile.html", customer=customer,
            ltv_foreign=ltv.foreign_share(customer_id,
                                          current_app.config["STORE_CURRENCY"]),
            transactions=rows[:PROFILE_PAGE_SIZE], has_older=len(rows) > PROFILE_PAGE_SIZE,
            tx_page=page, subscriptions=subscriptions,
            uncounted=uncounted_text(uncounted_totals(
                [customer_id], current_app.config["STORE_CURRENCY"]).get(customer_id, ())),
            tx_actions=[get_action(n) for n in TransactionView.row_actions],
            sub_actions=[get_action(n) for n in SubscriptionView.row_actions],
            modal=bool(request.args.get("modal")),
            return_url=self.get_url(".index_view", profile=customer_id),
            sub_return_url=self.get_url(".index_view", profile=customer_id, tab="subscriptions"))

    @expose("/avatar/<int:customer_id>")
    def avatar_view(self, customer_id):
        name = db.session.scalar(select(Customer.avatar).where(Customer.id == customer_id))
        if not name:
            abort(404)
        store = avatar_store()
        try:
            data = store.open(name)
        except FileNotFoundError:
            abort(404)
        response = send_file(data, mimetype="image/webp", max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response
