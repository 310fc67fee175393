"""The customers CSV export as a background job (a list too large to stream within one
request, or `flask export-customers --job`): written to a temporary file while the rows
stream from the database, then put into the file store; the job page links to it."""
import tempfile
import time

from sqlalchemy import update

from actions import export
from actions.bulk.base import BulkAction
from actions.operator import ShellOperator
from models import Customer, Job, db

PROGRESS_SECONDS = 0.5  # how often the job's page hears how many rows are written


def export_job_scope(search=None, filters=None, sort=None, sort_desc=False, bom=False,
                     audited_filters=None):
    """filters: the list's [index, name, value]; audited_filters: [name, operation, value]."""
    return {"view": "customer", "search": search or None,
            "filters": [list(f) for f in filters or []], "sort": sort,
            "sort_desc": bool(sort_desc), "bom": bool(bom),
            "audited_filters": [list(f) for f in audited_filters or []]}


def _actor(job):
    """Who exports: the admin who started the job (checked again now), or the command line."""
    if job.actor is not None:
        return job.actor
    return ShellOperator()


def run_export(deps, job):
    """Write the export of `job.scope` into the file store; progress in job.done_count."""
    scope = job.scope
    query = export.customers_query(scope.get("search"), sort=scope.get("sort"),
                                   sort_desc=scope.get("sort_desc"))
    filters = scope.get("filters") or []
    if filters:  # the list's filters, as the list applies them (deps.lists)
        matching = deps.lists({"view": "customer", "filters": filters})
        query = query.where(Customer.id.in_(
            matching.with_entities(Customer.id).order_by(None).statement))
    total = export.count_rows(query)
    job_id = job.id
    db.session.execute(update(Job).where(Job.id == job_id).values(total=total))
    db.session.commit()
    name = export.export_filename()
    key = f"exports/{job_id}/{name}"

    unsaved, saved_at = [0], [time.monotonic()]

    def progress(n, engine=db.engine):
        # its own connection: the export's server-side cursor stays open meanwhile (SQLite
        # would wait for the reading statement to end: the count is written at the end there);
        # at most every PROGRESS_SECONDS (each write is a transaction; a batch takes ~15 ms)
        if engine.dialect.name == "sqlite":
            return
        unsaved[0] += n
        if time.monotonic() - saved_at[0] < PROGRESS_SECONDS:
            return
        with engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id)
                         .values(done_count=Job.done_count + unsaved[0]))
        unsaved[0], saved_at[0] = 0, time.monotonic()

    audited = export.export_scope(search=scope.get("search"),
                                  filters=scope.get("audited_filters") or filters)
    with tempfile.TemporaryFile() as out:
        for chunk in export.export_customers(query, audited, _actor(job), deps.store_currency,
                                             bom=scope.get("bom", False), progress=progress):
            out.write(chunk.encode("utf-8"))
        db.session.rollback()
        out.seek(0)
        deps.files().put(key, out)
    job = db.session.get(Job, job_id, populate_existing=True)
    job.output_key, job.output_name, job.done_count = key, name, total
    job.message = f"{job.done_count:,} customers exported."
    db.session.commit()


ACTION = BulkAction(name="export_customers", title="Export customers (CSV)", permission="export",
                    model=Customer, run_whole=run_export)
