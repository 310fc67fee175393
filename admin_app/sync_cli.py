"""`flask sync stripe|paypal [--since DATE] [--dry-run]`: the backfill sync and drift report.

Cron (every night at 03:15, drift report only; see docs/SYNC.md):
  15 3 * * *  cd /srv/memberdesk && .venv/bin/flask --app wsgi sync stripe --dry-run --quiet
"""
from datetime import timezone

import click
from flask import current_app
from tqdm import tqdm

from actions.errors import GatewayError
from actions.sync import backfill
from admin_app.ratelimit import bucket_for
from actions.sync.events import reader_for
from actions.sync.sources import PayPalSource, StripeSource
from admin_app.composition import deps_from_app

#: an import of at least this many new rows ends with VACUUM (ANALYZE) on PostgreSQL
VACUUM_AFTER = 10000


@click.command("sync")
@click.argument("gateway", type=click.Choice(["stripe", "paypal"]))
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only objects created on or after this day (UTC).")
@click.option("--dry-run", is_flag=True, help="Change nothing; report the drift instead.")
@click.option("--rate", type=float, default=None,
              help="Most gateway requests per second (default: SYNC_RATE_LIMIT).")
@click.option("--quiet", is_flag=True, help="No progress bar (for cron).")
def sync_command(gateway, since, dry_run, rate, quiet):
    """Import the customers, payments, refunds, disputes and subscriptions of a gateway."""
    config = current_app.config
    deps = deps_from_app()
    reader = reader_for(gateway, deps)
    if reader is None:
        raise click.ClickException(f"{gateway} is not configured; nothing was synced.")
    reader.throttle = _throttle(current_app, gateway, rate or config["SYNC_RATE_LIMIT"])
    reader.page_size = config.get("SYNC_PAGE_SIZE") or reader.page_size
    since = since.replace(tzinfo=timezone.utc) if since else None
    source = (StripeSource if gateway == "stripe" else PayPalSource)(deps, reader, since)
    with tqdm(unit=" objects", disable=quiet, desc=f"{gateway} sync") as bar:
        try:
            summary = backfill.run(source, dry_run=dry_run, progress=bar.update)
        except GatewayError as e:
            raise click.ClickException(f"{e.message} The sync stopped; run it again to resume "
                                       "where it stopped.") from None
    _report(summary, dry_run, deps.money)
    if not dry_run and summary.counts["created"] >= VACUUM_AFTER and backfill.vacuum_analyze():
        click.echo("VACUUM (ANALYZE) done on the imported tables.")
    if dry_run and (summary.drift or summary.ltv_drift or summary.ltv_differences):
        raise SystemExit(1)


def _throttle(app, gateway, per_second):
    """The sync's own cap, and with REDIS_URL also the gateway's bucket shared with every
    worker's bulk jobs (one budget at the gateway, however many processes draw from it)."""
    own = backfill.RateLimit(per_second)
    if not app.config.get("REDIS_URL"):
        return own
    shared = bucket_for(app, gateway)

    def throttle():
        own()
        shared.acquire()
    return throttle


def _report(summary, dry_run, money):
    c = summary.counts
    click.echo(f"{'Would create' if dry_run else 'Created'} {c['created']}, "
               f"{'would update' if dry_run else 'updated'} {c['updated']}, "
               f"unchanged {c['unchanged']}, errors {c['errors']}.")
    for error in summary.errors[:20]:
        click.echo(f"  error: {error}")
    if dry_run:
        click.echo(f"Drift: {len(summary.drift)} difference(s).")
        for item in summary.drift[:50]:
            click.echo(f"  {item['what']}: {item['object']} ({item['action']})")
    if summary.ltv_compared:
        _report_ltv(summary, money)
    click.echo("Lifetime value check: " + (
        f"{summary.ltv_drift} customer(s) do not add up; run `flask recompute-ltv`."
        if summary.ltv_drift else "every customer's lifetime value adds up."))


def _report_ltv(summary, money):
    """Each customer's lifetime value here against the gateway's own records."""
    found = summary.ltv_differences
    if summary.ltv_not_compared:
        click.echo(f"Lifetime value against the gateway's records: {summary.ltv_not_compared} "
                   "customer(s) paid before the gateway's records reach (PayPal's transaction "
                   "search: three years) and were not compared.")
    if not found:
        click.echo("Lifetime value against the gateway's records: every customer "
                   f"{'compared ' if summary.ltv_not_compared else ''}agrees.")
        return
    click.echo(f"Lifetime value against the gateway's records: {len(found)} customer(s) "
               "differ:")
    for item in found[:50]:
        click.echo(f"  {item['email'] or 'customer #' + str(item['customer_id'])}: "
                   f"{money(item['here_cents'])} here, {money(item['gateway_cents'])} "
                   "by the gateway's records")
