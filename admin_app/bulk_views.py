"""Bulk actions on a list: Flask-Admin's `@action` (ticked rows) or "all N matching" (the
list's search and filters), a confirmation page with CSRF, then a background job."""
import uuid
from functools import partial

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from actions.bulk import BULK_ACTIONS
from actions.errors import ActionError
from actions.export import selected_ids
from admin_app import jobs
from admin_app.composition import deps_from_app
from admin_app.redirects import get_redirect_target
from admin_app.lists import scope_query

LIST_ONLY_ARGS = ("page", "page_size", "sort", "desc", "ids", "all", "url")


class ListScopeMixin:
    """A list whose search and filters are declared in admin_app/lists.py (`list_scope`),
    so that the list, a bulk confirmation and a job's worker find the same rows."""

    list_scope = None

    def __init__(self, *args, **kwargs):
        if self.list_scope is not None and self.column_filters is None:
            self.column_filters = list(self.list_scope.filters)
        super().__init__(*args, **kwargs)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """The search of admin_app/lists.py (what a job's worker applies too)."""
        query = self.list_scope.search(query, search)
        if count_query is not None:
            count_query = self.list_scope.search(count_query, search)
        return query, count_query, joins, count_joins


class BulkActionsMixin:
    """Adds `bulk_actions` (names in actions.bulk.BULK_ACTIONS) to a ModelView: each is in
    the list's "With selected" menu (Flask-Admin's actions), has a "… all N matching" link and
    a confirmation page (the action's form and summary), and starts a job."""

    bulk_actions = ()

    def init_actions(self):
        """Flask-Admin's `@action` methods, then one menu entry per bulk action."""
        super().init_actions()
        for name in self.bulk_actions:
            action = BULK_ACTIONS[name]
            assert self.model is action.model, (
                f"{name} acts on {action.model.__name__} rows, not on {self.model.__name__}")
            self._actions.append((name, action.menu))
            self._actions_data[name] = (partial(self.bulk_redirect, name), action.menu, None)

    def is_action_allowed(self, name):
        if name in self.bulk_actions:
            return current_user.is_authenticated and current_user.can(
                BULK_ACTIONS[name].permission)
        return super().is_action_allowed(name)

    def allowed_bulk_actions(self):
        return [BULK_ACTIONS[n] for n in self.bulk_actions if self.is_action_allowed(n)]

    def bulk_all_url(self, name):
        """The confirmation page for every row of the list as it is filtered now."""
        args = {k: v for k, v in request.args.items() if k not in LIST_ONLY_ARGS}
        return self.get_url(".bulk_confirm", bulk_name=name, all=1, url=request.full_path, **args)

    def bulk_redirect(self, name, ids):
        """What an `@action` returns: the confirmation page for the ticked rows."""
        return redirect(self.get_url(".bulk_confirm", bulk_name=name, ids=",".join(
            str(i) for i in selected_ids(ids)), url=get_redirect_target() or None))

    def _bulk_scope(self):
        if request.args.get("all") == "1":
            args = self._get_list_extra_args()
            return {"view": self.endpoint, "search": args.search or None,
                    "filters": [list(f) for f in args.filters or []]}
        ids = selected_ids(request.args.get("ids", "").split(","))
        return {"view": self.endpoint, "ids": ids}

    @expose("/bulk/<bulk_name>/", methods=("GET", "POST"))
    def bulk_confirm(self, bulk_name):
        name = bulk_name
        if name not in self.bulk_actions:
            abort(404)
        action = BULK_ACTIONS[name]
        return_url = get_redirect_target() or self.get_url(".index_view")
        if not self.is_action_allowed(name):
            flash(f"Your role ({current_user.role}) does not allow “{action.title}”; "
                  "nothing was changed.", "error")
            return redirect(return_url)
        scope = self._bulk_scope()
        query = scope_query(scope)
        summary = action.summary(query, deps_from_app())
        count = summary["count"]
        form = action.form(summary=summary)
        if request.method == "POST" and form.validate_on_submit():
            problem = _confirmation_problem(form, count)
            if problem:
                flash(problem, "error")
            else:
                return self._start_job(action, scope, form, return_url)
        form.expected_count.data = str(count)
        if not form.request_key.data or form.request_key.errors:
            form.request_key.data = uuid.uuid4().hex
        return self.render("bulk/confirm.html", action=action, form=form, summary=summary,
                           count=count, all_matching=request.args.get("all") == "1",
                           return_url=return_url)

    def _start_job(self, action, scope, form, return_url):
        try:
            job = jobs.create_job(current_user, action.name, scope, form.params(),
                                  request_key=form.request_key.data)
        except jobs.AlreadyStarted as exc:
            flash(exc.message, "info")
            return redirect(url_for("jobs.job_view", job_id=exc.job.id))
        except ActionError as exc:
            flash(exc.message, "error")
            return redirect(return_url)
        flash(f"Job #{job.id} started: {job.title}.", "success")
        return redirect(url_for("jobs.job_view", job_id=job.id))


def _confirmation_problem(form, count):
    if count == 0:
        return "Nothing to do: no selected row is eligible."
    if str(count) != (form.expected_count.data or ""):
        return (f"The selection changed while you looked at it: it is now {count:,} rows. "
                "Check the numbers and confirm again.")
    typed = getattr(form, "typed_count", None)
    if typed is not None and typed.data != count:
        return f"Type {count} (the number of payments) to confirm; nothing was started."
    return None
