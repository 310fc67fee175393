"""Command-line tools: admins, demo data, seeding, lifetime value checks, CSV export."""
import secrets
import shutil
import time

import click
from flask import current_app
from sqlalchemy import func, select
from tqdm import tqdm
from werkzeug.serving import run_simple

from actions import admin_users, export, ltv
from actions.bulk.export_customers import export_job_scope
from actions.errors import InvalidRequest
from actions.operator import ShellOperator
from admin_app import jobs
from admin_app.filestore import file_store
from admin_app.migrating import upgrade_quietly
from models import AdminUser, Customer, Job, ROLES, db
from models.money import format_money

DEMO_EMAIL = "demo@memberdesk.local"


def init_app(app):
    from admin_app.sync_cli import sync_command
    for command in (create_admin, seed_command, recompute_ltv, demo, export_customers,
                    sync_command, sandbox_group):
        app.cli.add_command(command)
    from admin_app import metrics_cli
    metrics_cli.init_app(app)


def ensure_admin(email, role, password):
    """Create the admin, or update role and password of an existing one. The address follows
    the invitation's rule (actions.admin_users.admin_email); InvalidRequest when it does not."""
    email = admin_users.admin_email(email)
    user = db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
    if user is None:
        user = AdminUser(email=email)
        db.session.add(user)
    user.role = role
    user.set_password(password)
    db.session.commit()
    return user


@click.command("create-admin")
@click.argument("email")
@click.option("--role", type=click.Choice(sorted(ROLES)), default="owner", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when left out.")
def create_admin(email, role, password):
    """Create an admin user (or reset an existing one's role and password)."""
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    try:
        user = ensure_admin(email, role, password)
    except InvalidRequest as exc:
        raise click.BadParameter(exc.message, param_hint="EMAIL") from None
    click.echo(f"Admin {user.email} ({role}) is ready.")


@click.command("seed")
@click.option("--customers", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--transactions-per-customer", type=click.IntRange(min=0), default=4,
              show_default=True)
@click.option("--random-seed", type=int, default=7, show_default=True)
def seed_command(customers, transactions_per_customer, random_seed):
    """Add realistic random customers, payments, refunds and subscriptions."""
    from admin_app.seed import seed
    counts = seed(customers, transactions_per_customer, random_seed=random_seed,
                  store_currency=current_app.config["STORE_CURRENCY"])
    click.echo(", ".join(f"{v} {k}" for k, v in counts.items()) + " added.")
    from admin_app.metrics_cli import rebuild_all
    rebuild_all()  # the seed writes in bulk, past the MRR ledger's hook


@click.command("recompute-ltv")
@click.option("--dry-run", is_flag=True, help="Only report the drift, change nothing.")
def recompute_ltv(dry_run):
    """Recompute lifetime values from the transactions and report any drift."""
    rows = ltv.find_drift(current_app.config["STORE_CURRENCY"])
    currency = current_app.config["STORE_CURRENCY"]
    for customer_id, stored, actual in rows[:50]:
        click.echo(f"customer {customer_id}: stored {format_money(stored, currency)}, "
                   f"actual {format_money(actual, currency)}")
    if len(rows) > 50:
        click.echo(f"... and {len(rows) - 50} more")
    if rows and not dry_run:
        ltv.fix_drift(rows)
    verb = "found" if dry_run else "fixed"
    click.echo(f"Lifetime value drift {verb} for {len(rows)} customer(s)." if rows
               else "No drift: every stored lifetime value matches the transactions.")
    if rows and dry_run:
        raise SystemExit(1)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-run", is_flag=True, help="Prepare the database, do not start the server.")
@click.option("--customers", type=click.IntRange(min=1), default=300, show_default=True,
              help="How many demo customers a fresh database gets.")
@click.option("--sandbox-port", default=0, show_default=True,
              help="Port of the gateway sandbox (0: any free port).")
@click.option("--no-sandbox", is_flag=True,
              help="Use the Stripe/PayPal/mail settings as configured (real accounts) "
                   "instead of the sandbox and the outbox.")
def demo(host, port, no_run, customers, sandbox_port, no_sandbox):
    """Bring the database up to date, add demo data on first start, start the gateway
    sandbox and serve the panel."""
    upgrade_quietly()
    if not db.session.scalar(select(func.count()).select_from(Customer)):
        from admin_app.seed import seed
        seed(customers, 4, store_currency=current_app.config["STORE_CURRENCY"])
        from admin_app.metrics_cli import rebuild_all
        rebuild_all(progress=False)  # Home's figures of the demo data
    password = secrets.token_urlsafe(9)
    ensure_admin(DEMO_EMAIL, "owner", password)
    app = current_app._get_current_object()
    gateways = ("  Payments: Stripe and PayPal as configured (STRIPE_API_KEY, PAYPAL_CLIENT_ID…)\n")
    no_sandbox = no_sandbox or no_run
    if not no_sandbox:
        from sandbox.run import start_for_app  # the demo's sandbox: never on a request path
        panel = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        server = start_for_app(app, panel, port=sandbox_port)
        app.config["MAIL_OUTBOX"] = app.config.get("MAIL_OUTBOX") or "1"
        counts = server.counts
        gateways = (
            f"  Payments: Stripe and PayPal are a SANDBOX at {server.url} (no real money moves;\n"
            f"  {counts.get('customers', 0)} customers, {counts.get('payments', 0)} payments, "
            f"{counts.get('subscriptions', 0)} subscriptions mirrored).\n"
            "  Move its clock: flask --app wsgi sandbox advance --days 30 (or the Sandbox page).\n"
            "  E-mails are kept in the Outbox page, not sent.\n"
            "  Real accounts instead: set STRIPE_API_KEY, PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET,\n"
            "  PAYPAL_API_BASE and MAIL_SERVER, and start with --no-sandbox (README).\n")
    where = (f"  Memberdesk: http://{host}:{port}/admin\n" if not no_run else
             "  Memberdesk: the database is ready; nothing is served (--no-run). Serve it\n"
             "  with: flask --app wsgi demo (add --port N for another port than 5000).\n")
    click.echo(f"\n{where}"
               f"  Log in as {DEMO_EMAIL} with password {password}\n"
               f"  (a new password is set at every start of the demo)\n{gateways}")
    if no_run:
        return
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        if not no_sandbox:
            from sandbox.run import stop_for_app
            stop_for_app(server)


@click.group("sandbox")
def sandbox_group():
    """The Stripe and PayPal sandbox of the demo: serve it, move its clock, make a renewal
    fail, open and decide disputes."""


def _sandbox_call(what, url, *args):
    from sandbox import run
    try:
        return getattr(run, what)(run.running_url(current_app, url), *args)
    except ValueError as e:
        raise click.ClickException(str(e)) from None


@sandbox_group.command("advance")
@click.option("--days", type=click.FloatRange(min=0, min_open=True, max=400), required=True)
@click.option("--url", default=None, help="The sandbox (default: the one the demo started).")
def sandbox_advance(days, url):
    """Move the sandbox's clock forward: renewals, period-end cancellations, failed
    renewals fall due and arrive at the panel as webhooks."""
    result = _sandbox_call("advance", url, days)
    for line in result["happened"]:
        click.echo(f"  {line}")
    click.echo(f"Sandbox clock moved {days:g} day(s) ({result['offset_days']} day(s) ahead of "
               f"real time); {len(result['happened'])} event(s) fell due"
               + ("." if result["webhooks_delivered"] else
                  "; some webhooks are still being delivered."))


@sandbox_group.command("decline")
@click.argument("subscription")
@click.option("--url", default=None)
def sandbox_decline(subscription, url):
    """Decline the next renewal of SUBSCRIPTION (sub_… or I-…): it becomes past due."""
    _sandbox_call("control", url, "/decline", {"ref": subscription})
    click.echo(f"The next renewal of {subscription} will be declined.")


@sandbox_group.command("dispute")
@click.argument("payment")
@click.option("--url", default=None)
def sandbox_dispute(payment, url):
    """Open a dispute on PAYMENT (pi_…/ch_… or a PayPal capture id)."""
    found = _sandbox_call("control", url, "/dispute", {"ref": payment})
    click.echo(f"Dispute {found.get('id') or found.get('dispute_id')} opened on {payment}.")


@sandbox_group.command("decide")
@click.argument("dispute")
@click.option("--won/--lost", default=True, show_default=True)
@click.option("--url", default=None)
def sandbox_decide(dispute, won, url):
    """Close DISPUTE (dp_… or PP-D-…) as won or lost."""
    _sandbox_call("control", url, "/decide", {"ref": dispute, "won": won})
    click.echo(f"Dispute {dispute} {'won' if won else 'lost'}.")


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5010, show_default=True)
@click.option("--panel", default=None, help="Deliver webhooks to this panel URL "
              "(e.g. http://127.0.0.1:5000).")
@click.option("--mirror/--empty", default=True, show_default=True,
              help="Start with this database's customers, payments and subscriptions.")
def sandbox_serve(host, port, panel, mirror):
    """Run the sandbox on its own; prints the settings that point a panel at it."""
    from sandbox.mirror import mirror as copy
    from sandbox.server import Server
    server = Server(host=host, port=port)
    config = server.config(panel_url=panel)
    if mirror:
        counts = copy(server.sandbox, db.session)
        click.echo(", ".join(f"{v} {k}" for k, v in counts.items()) + " mirrored.")
    click.echo("Point a panel at it with these settings (environment variables):")
    for key, value in config.items():
        click.echo(f"  {key}={value}")
    click.echo(f"  SANDBOX_URL={server.url}")
    from sandbox.run import _write, state_path
    _write(state_path(current_app), {"url": server.url, "offset": 0})
    server.serve_forever()


@click.command("export-customers")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--search", default=None, help="Only the customers the list's search would show.")
@click.option("--bom", is_flag=True, help="Start with a UTF-8 byte order mark (for Excel).")
@click.option("--job", "as_job", is_flag=True,
              help="Run it as a background job (its file also stays on the Jobs page).")
def export_customers(file, search, bom, as_job):
    """Write the customers CSV (as the list's Export button does) to FILE, or - for stdout."""
    if as_job:
        return export_through_job(file, search, bom)
    query = export.customers_query(search)
    scope, currency = export.export_scope(search=search), current_app.config["STORE_CURRENCY"]
    if file == "-":
        out = click.get_binary_stream("stdout")
        for chunk in export.export_customers(query, scope, ShellOperator(), currency, bom=bom):
            out.write(chunk.encode("utf-8"))
        out.flush()
        return
    total = export.count_rows(query)
    with open(file, "wb") as out, tqdm(total=total, unit=" customers", unit_scale=True) as bar:
        for chunk in export.export_customers(query, scope, ShellOperator(), currency, bom=bom,
                                             progress=bar.update):
            out.write(chunk.encode("utf-8"))
    click.echo(f"{bar.n} customer(s) written to {file}.", err=True)


def export_through_job(file, search, bom, poll=0.5):
    """The CLI's `export-customers --job`: queue the job, show its progress, copy its file."""
    job_id = jobs.create_job(None, "export_customers", export_job_scope(search, bom=bom),
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
