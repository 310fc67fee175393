"""`flask metrics rebuild|refresh`: the dashboard's figures per day (docs/METRICS.md)."""
import click
from flask import current_app
from tqdm import tqdm

from actions.metrics import backfill, days
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
    """Recompute only the days changed since the last refresh (Home does this itself)."""
    config = current_app.config
    first = days.refresh(utcnow(), config["STORE_TIMEZONE"], config["STORE_CURRENCY"])
    click.echo("Up to date." if first is None else f"Recomputed from {first.isoformat()}.")


def init_app(app):
    app.cli.add_command(metrics_group)
