"""Jobs: every background job (owner and finance see all, others their own), a job's page
with a live progress bar and its per-row results, retry of failed rows, export downloads."""
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import func, select

from actions.bulk import BULK_ACTIONS
from actions.errors import ActionError
from admin_app import filestore, jobs, queue
from actions.form_checks import plain_int
from admin_app.input_guard import page_number
from admin_app.views.base import SecureModelView, datetime_formatter
from models import Job, JobRow, db

ROWS_PER_PAGE = 200
SEE_ALL_ROLES = ("owner", "finance")


#: the badge and bar colour of each outcome (Bootstrap 4 contextual classes)
OUTCOME_CLASSES = {"queued": "secondary", "running": "info", "done": "success",
                   "partly failed": "warning", "failed": "danger"}


def _progress_formatter(view, context, job, name):
    total = "?" if job.total is None else f"{job.total:,}"
    badge = OUTCOME_CLASSES[job.outcome]
    return Markup(f'<span class="badge badge-{badge}">{escape(job.outcome)}</span> · '
                  f"{job.processed:,}/{total}")


def _title_formatter(view, context, job, name):
    return Markup(f'<a href="{url_for(".job_view", job_id=job.id)}">{escape(job.title)}</a>')


class JobView(SecureModelView):
    list_template = "jobs/list.html"
    column_list = ["id", "title", "actor", "state", "done_count", "skipped_count",
                   "failed_count", "created_at", "finished_at"]
    column_labels = {"id": "Job", "actor": "Started by", "state": "Progress",
                     "done_count": "Done", "skipped_count": "Skipped", "failed_count": "Failed",
                     "created_at": "Started", "finished_at": "Finished"}
    column_sortable_list = ["id", "created_at"]
    column_default_sort = ("id", True)
    column_formatters = {"title": _title_formatter, "state": _progress_formatter,
                         "created_at": datetime_formatter, "finished_at": datetime_formatter}
    column_select_related_list = [Job.actor]

    def _visible(self, query):
        if current_user.role in SEE_ALL_ROLES:
            return query
        return query.filter(Job.actor_id == current_user.id)

    def get_query(self):
        return self._visible(super().get_query())

    def get_count_query(self):
        return self._visible(super().get_count_query())

    def get_one(self, id):
        job = db.session.get(Job, int(id))
        if job is None or (current_user.role not in SEE_ALL_ROLES
                           and job.actor_id != current_user.id):
            return None
        return job

    @expose("/")
    def index_view(self):
        backend = queue.backend()
        if isinstance(backend, queue.ThreadBackend):
            backend.start()  # resumes what a stopped demo process left unfinished
        return super().index_view()

    def _job_or_404(self, job_id):
        return self.get_one(job_id) or abort(404)

    @expose("/job/<int:job_id>/")
    def job_view(self, job_id):
        job = self._job_or_404(job_id)
        page = page_number(plain_int(request.args.get("rows_page", "0")), ROWS_PER_PAGE,
                           "page of rows")
        rows, has_more = _rows(job, page)
        action = BULK_ACTIONS.get(job.action)
        return self.render("jobs/detail.html", job=job, rows=rows, has_more=has_more,
                           rows_page=page, action=action, status=_status(job),
                           form=FlaskForm(), outcome_class=OUTCOME_CLASSES[job.outcome],
                           can_retry=bool(action) and current_user.can(action.permission))

    @expose("/job/<int:job_id>/status.json")
    def status_view(self, job_id):
        """The job's progress, and the rows of the page being looked at (rows_page) as they
        are now: the page fills its row table in as the rows are processed."""
        job = self._job_or_404(job_id)
        status = _status(job)
        page = page_number(plain_int(request.args.get("rows_page", "0")), ROWS_PER_PAGE,
                           "page of rows")
        rows, _ = _rows(job, page)
        status["rows_html"] = self.render("jobs/_rows.html", rows=rows)
        return jsonify(status)

    @expose("/job/<int:job_id>/retry", methods=("POST",))
    def retry_view(self, job_id):
        job = self._job_or_404(job_id)
        if not FlaskForm().validate_on_submit():
            abort(400)
        try:
            new = jobs.retry_failed(current_user, job)
        except ActionError as exc:
            flash(exc.message, "error")
            return redirect(url_for(".job_view", job_id=job.id))
        flash(f"Job #{new.id} retries the {new.scope['ids'].__len__():,} failed rows of "
              f"job #{job.id}.", "success")
        return redirect(url_for(".job_view", job_id=new.id))

    @expose("/job/<int:job_id>/download")
    def download_view(self, job_id):
        job = self._job_or_404(job_id)
        if not job.output_key or job.state != "done":
            abort(404)
        return filestore.download_response(job.output_key, job.output_name)


def _rows(job, page):
    """[(number in the job, row, target label, target url)] of one page, and whether more
    follow. Rows are numbered 1, 2, ... within the job; each target is named and linked."""
    numbered = (select(JobRow, func.row_number().over(order_by=JobRow.id).label("number"))
                .where(JobRow.job_id == job.id).order_by(JobRow.id)
                .limit(ROWS_PER_PAGE + 1).offset(page * ROWS_PER_PAGE))
    found = db.session.execute(numbered).all()
    action = BULK_ACTIONS.get(job.action)
    targets = _targets(action.model if action else None, [r.target_id for r, _ in found])
    rows = [(number, row, *targets.get(row.target_id, (f"#{row.target_id}", None)))
            for row, number in found[:ROWS_PER_PAGE]]
    return rows, len(found) > ROWS_PER_PAGE


def _targets(model, ids):
    """target id -> (what a user calls it, the link to it: the customer's profile, on the
    tab where it is)."""
    if model is None or not ids:
        return {}
    from models import Customer, Subscription, Transaction
    found = {}
    for obj in db.session.scalars(select(model).where(model.id.in_(ids))):
        if isinstance(obj, Customer):
            found[obj.id] = (f"{obj.name} <{obj.email}>",
                             url_for("customer.index_view", profile=obj.id))
        elif isinstance(obj, Transaction):
            found[obj.id] = (f"{obj.customer.name} · {obj.description or 'payment'} "
                             f"(#{obj.id})", url_for("customer.index_view",
                                                     profile=obj.customer_id))
        elif isinstance(obj, Subscription):
            found[obj.id] = (f"{obj.customer.name} · {obj.name}",
                             url_for("customer.index_view", profile=obj.customer_id,
                                     tab="subscriptions"))
        else:
            found[obj.id] = (str(obj), None)
    return found


def _status(job):
    """The small JSON the job page polls."""
    counts = dict(db.session.execute(
        select(JobRow.state, func.count()).where(JobRow.job_id == job.id)
        .group_by(JobRow.state)).all())
    return {"id": job.id, "state": job.state, "total": job.total, "done": job.done_count,
            "skipped": job.skipped_count, "failed": job.failed_count,
            "processed": job.processed, "percent": job.percent, "message": job.message,
            "outcome": job.outcome, "outcome_class": OUTCOME_CLASSES[job.outcome],
            "finished": job.finished, "rows_by_state": counts,
            "download": url_for(".download_view", job_id=job.id)
            if job.output_key and job.state == "done" else None}
