"""The customers CSV export as a background job: written to a temporary file while the rows
stream from the database, then put into the file store; the job page links to it."""
import tempfile

from flask import current_app
from sqlalchemy import func, select, update

from actions.bulk import BulkAction, register
from actions import export
from actions.export import export_filename
from admin_app.filestore import file_store
from models import Customer, Job, db

EXPORT_ACTION = "export_customers"


def export_job_scope(search=None, filters=None, sort=None, sort_desc=False, bom=False):
    return {"view": "customer", "search": search or None,
            "filters": [list(f) for f in filters or []], "sort": sort,
            "sort_desc": bool(sort_desc), "bom": bool(bom)}


def _actor(job):
    """Who exports: the admin who started the job (checked again now), or the command line."""
    if job.actor is not None:
        return job.actor
    from admin_app.cli import ShellOperator
    return ShellOperator()


def run_export(job):
    """Write the export of `job.scope` into the file store; progress in job.done_count."""
    from admin_app.bulk_views import find_view
    view = find_view("customer")
    scope = job.scope
    query = view.export_query(scope.get("sort"), scope.get("sort_desc"), scope.get("search"),
                              [tuple(f) for f in scope.get("filters") or []])
    total = db.session.scalar(select(func.count()).select_from(
        query.with_entities(Customer.id).order_by(None).subquery()))
    job_id = job.id
    db.session.execute(update(Job).where(Job.id == job_id).values(total=total))
    db.session.commit()
    name = export_filename()
    key = f"exports/{job_id}/{name}"

    def progress(n, engine=db.engine):
        # its own connection: the export's server-side cursor stays open meanwhile (SQLite
        # would wait for the reading statement to end: the count is written at the end there)
        if engine.dialect.name == "sqlite":
            return
        with engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id)
                         .values(done_count=Job.done_count + n))

    filters = scope.get("filters") or []
    audited = export.export_scope(search=scope.get("search"), filters=[
        [name, view._filters[index].operation(), value] for index, name, value in filters])
    with tempfile.TemporaryFile() as out:
        for chunk in export.export_customers(query, audited, _actor(job),
                                             current_app.config["STORE_CURRENCY"],
                                             bom=scope.get("bom", False), progress=progress):
            out.write(chunk.encode("utf-8"))
        db.session.rollback()
        out.seek(0)
        file_store().put(key, out)
    job = db.session.get(Job, job_id, populate_existing=True)
    job.output_key, job.output_name, job.done_count = key, name, total
    job.message = f"{job.done_count:,} customers exported."
    db.session.commit()


register(BulkAction(name=EXPORT_ACTION, title="Export customers (CSV)", permission="export",
                    model=Customer, run_whole=run_export))


def export_through_job(file, search, bom, poll=0.5):
    """The CLI's `export-customers --job`: queue the job, show its progress, copy its file."""
    import shutil
    import time

    import click
    from tqdm import tqdm

    from admin_app.jobs import create_job
    job_id = create_job(None, EXPORT_ACTION, export_job_scope(search, bom=bom),
                        title="Export customers (CSV, command line)").id
    click.echo(f"Job #{job_id} queued.", err=True)
    with tqdm(unit=" customers", unit_scale=True) as bar:
        while True:
            db.session.rollback()
            job = db.session.get(Job, job_id, populate_existing=True)
            bar.total = job.total
            bar.update(job.done_count - bar.n)
            if job.finished:
                break
            time.sleep(poll)
    if job.state != "done":
        raise click.ClickException(f"Job #{job_id} failed: {job.message}")
    with file_store().open(job.output_key) as src, click.open_file(file, "wb") as out:
        shutil.copyfileobj(src, out)
    click.echo(f"{job.done_count} customer(s) written to {file} (job #{job_id}).", err=True)
