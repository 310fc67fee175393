"""Bulk actions on a list: Flask-Admin's `@action` (ticked rows) or "all N matching" (the
list's search and filters), a confirmation page with CSRF, then a background job."""
import uuid

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from actions.bulk import BULK_ACTIONS
from actions.errors import ActionError
from actions.export import selected_ids
from actions.form_checks import PlainIntegerField, request_key_field
from admin_app import jobs
from models import db
from models.transaction import REFUND_REASONS

LIST_ONLY_ARGS = ("page", "page_size", "sort", "desc", "ids", "all", "url")


class BulkForm(FlaskForm):
    """Carries the CSRF token, the count the admin saw and the form's one-time request key
    (the same confirmation sent twice finds the job it started)."""

    expected_count = HiddenField()
    request_key = request_key_field()

    def __init__(self, *args, summary=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.summary = summary or {}

    def params(self):
        return {}


class BulkRefundForm(BulkForm):
    reason = SelectField("Reason", choices=[SelectChoice(k, v) for k, v in REFUND_REASONS.items()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=500)])
    typed_count = PlainIntegerField("Type the number of payments to refund, to confirm",
                               validators=[InputRequired("Type the number of payments.")])

    def params(self):
        return {"reason": self.reason.data, "note": self.note.data or None}


def find_view(endpoint):
    for admin in current_app.extensions["admin"]:
        for view in admin._views:
            if view.endpoint == endpoint:
                return view
    raise LookupError(f"no admin view {endpoint!r}")


def scope_query(scope):
    """The model query a job's scope stands for: the view's search/filters, or its ids."""
    view = find_view(scope["view"])
    query = view.scope_query(scope.get("search"), [tuple(f) for f in scope.get("filters") or []])
    if "ids" in scope:
        query = query.filter(view.model.id.in_(scope["ids"]))
    return query


def scope_ids(scope, model):
    """The target ids of a scope, in id order (what a job writes into job_row)."""
    ids_query = scope_query(scope).with_entities(model.id).order_by(None).order_by(model.id)
    return [row[0] for row in db.session.execute(ids_query.statement)]


class BulkActionsMixin:
    """Adds `bulk_actions` (names in actions.bulk.BULK_ACTIONS) to a ModelView."""

    bulk_actions = ()
    #: action name -> (form class, summary function(view, query) -> dict)
    bulk_forms = {}

    def is_action_allowed(self, name):
        if name in self.bulk_actions:
            return current_user.is_authenticated and current_user.can(
                BULK_ACTIONS[name].permission)
        return super().is_action_allowed(name)

    def scope_query(self, search, filters):
        """The list's query with a search and filters, unpaged (also run by workers)."""
        query, joins = self.get_query(), {}
        if search and self._search_supported:
            query, _, joins, _ = self._apply_search(query, None, joins, {}, search)
        if filters and self._filters:
            query, _, joins, _ = self._apply_filters(query, None, joins, {}, filters)
        return query

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
        return_url = _safe_path(request.args.get("url")) or self.get_url(".index_view")
        if not self.is_action_allowed(name):
            flash(f"Your role ({current_user.role}) does not allow “{action.title}”; "
                  "nothing was changed.", "error")
            return redirect(return_url)
        scope = self._bulk_scope()
        query = scope_query(scope)
        form_class, summarize = self.bulk_forms.get(name, (BulkForm, _plain_summary))
        summary = summarize(self, query)
        count = summary["count"]
        form = form_class(summary=summary)
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


def _plain_summary(view, query):
    return {"count": db.session.scalar(select(db.func.count()).select_from(
        query.with_entities(view.model.id).order_by(None).subquery())) or 0, "lines": []}


def _safe_path(url):
    """A redirect target on this site only (a path), never another host."""
    if url and url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return None
