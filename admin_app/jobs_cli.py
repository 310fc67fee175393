"""`flask jobs ...`: resume jobs a stopped process left, list jobs."""
import click
from flask import current_app
from sqlalchemy import select

from admin_app import jobs, queue
from models import Job, db


@click.group("jobs")
def jobs_group():
    """Background jobs (bulk actions, large exports)."""


@jobs_group.command("resume")
@click.option("--wait", is_flag=True, help="Without REDIS_URL: run them here until done.")
def resume(wait):
    """Queue again the unfinished jobs whose worker is gone."""
    backend = queue.backend()
    if isinstance(backend, queue.ThreadBackend):
        backend.start()  # its first task resumes stale jobs, in this process's thread
        if wait:
            backend.wait_idle(timeout=None)
    else:
        jobs.resume_stale_jobs(current_app)
    click.echo("Unfinished jobs were queued again." if not wait else "Done.")


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True)
def list_jobs(limit):
    """The latest jobs and how far they got."""
    for job in db.session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
        click.echo(f"#{job.id} {job.state:8} {job.processed}/{job.total} {job.title}")


def init_app(app):
    app.cli.add_command(jobs_group)
