"""The customers CSV export from the list: streamed within the request, or, above
EXPORT_JOB_THRESHOLD rows, a background job whose page links the file; "Export selected"."""
from flask import (Response, abort, current_app, flash, redirect, request, stream_with_context,
                   url_for)
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user

from actions.bulk.export_customers import export_job_scope
from actions.errors import NotAllowed
from actions.export import export_customers, export_filename, export_scope, selected_ids
from admin_app.jobs import create_job
from models import Customer, db
from models.queries.counting import capped_count
from models.queries.customer_search import plan_search


class CsvExportMixin:
    """Flask-Admin's export endpoint and export_types, answered by actions/export.py."""

    @property
    def can_export(self):
        return current_user.is_authenticated and current_user.can("export")

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
                                 args.sort_desc, request.values.get("bom") == "1",
                                 audited_filters=self.export_scope().get("filters"))
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
