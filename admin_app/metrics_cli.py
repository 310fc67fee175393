"""`flask metrics rebuild|refresh`: the dashboard's figures per day (docs/METRICS.md)."""
import click
from flask import current_app
from tqdm import tqdm

from actions.metrics import backfill, days, figures
from models._types import utcnow


def rebuild_all(progress=True):
    """Spans for the subscriptions the ledger has not seen, then every day from the ledger;
    returns (subscriptions backfilled, days written)."""
    config, now = current_app.config, utcnow()
    tz, store = config["STORE_TIMEZONE"], config["STORE_CURRENCY"]
    with tqdm(total=backfill.unseen_count(), unit="subscription", disable=not progress,
              desc="Ledger") as bar:
        seen = backfill.backfill(now, store, progress=bar.update)
    with tqdm(total=days.total_days(now, tz), unit="day", disable=not progress,
              desc="Days") as bar:
        written = days.rebuild(now, tz, store, progress=bar.update)
    return seen, written


@click.group("metrics")
def metrics_group():
    """Home's figures: MRR, its movements, churn, net revenue per day."""


@metrics_group.command("rebuild")
def rebuild_command():
    """Recompute every day's figures from the ledger (spans and payments)."""
    seen, written = rebuild_all()
    click.echo(f"{written} day(s) recomputed from the ledger"
               + (f"; {seen} subscription(s) added to it" if seen else "") + ".")


@metrics_group.command("refresh")
def refresh_command():
    """Recompute the days changed since the last refresh (Home does this itself) and recount
    the figures of the moment (run it from cron every minute at scale)."""
    config, now = current_app.config, utcnow()
    first = days.refresh(now, config["STORE_TIMEZONE"], config["STORE_CURRENCY"])
    figures.live_counted(now, config["STORE_TIMEZONE"], 0)
    click.echo(("Days up to date" if first is None else f"Recomputed from {first.isoformat()}")
               + "; the counts of the moment recounted.")


def init_app(app):
    app.cli.add_command(metrics_group)
