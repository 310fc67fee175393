"""Fast, deterministic, realistic demo data: customers, payments, refunds, subscriptions.

seed() appends after the highest existing id of every table (so it can add to a database in
use), continues invoice numbers gaplessly after the highest one (in transaction id order) and
stores each customer's lifetime value as it generates the payments, so nothing is recomputed
afterwards. It generates and writes per batch of customers (memory stays flat), with COPY on
PostgreSQL (psycopg 3), the driver's executemany on SQLite and Core executemany elsewhere; it
commits every batch (every ~25k customers on SQLite, see below). On PostgreSQL it ends with
VACUUM (ANALYZE) of the tables it filled, so that lists are as fast right after a seed as
they will be later.

The builders: customers.py (people, companies, addresses), payments.py (one-time purchases,
transactions, refunds), subscriptions.py; words.py, countries.py and catalog.py hold the data.
"""
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from sqlalchemy import func, select
from tqdm import tqdm

from admin_app.seed.catalog import ensure_catalog
from admin_app.seed.generator import Generator
from admin_app.seed.writer import COLUMNS, TRANSACTIONS, TableWriter
from models import db

__all__ = ["seed"]


def seed(n_customers: int, tx_per_customer: int, *, store_currency: str = "USD",
         random_seed: int = 7, progress: bool = True, batch_size: int = 5000,
         now: datetime | None = None) -> dict:
    """Add n_customers customers with about tx_per_customer payments each; returns counts.

    Needs an app context and the schema. `now` (aware) pins the clock for reproducible
    output; by default it is the current time.
    """
    now_ts = int((now or datetime.now(timezone.utc)).timestamp())
    rng = random.Random(random_seed)
    with db.engine.connect() as conn:
        writer = TableWriter(conn)
        with conn.begin():
            catalog = ensure_catalog(conn, rng, store_currency)
            start = _continue_after(conn)
        generator = Generator(rng, now_ts, store_currency, catalog, start, tx_per_customer,
                              writer.datetime_value)
        batches = [(first, min(first + batch_size, n_customers), n_customers)
                   for first in range(0, n_customers, batch_size)]
        # A SQLite commit rewrites every index page the transaction touched, and random keys
        # (e-mails, gateway ids, dates) touch most of them: commit every ~25k customers there.
        per_commit = max(1, 25000 // batch_size) if writer.dialect == "sqlite" else 1
        restore = writer.tune()
        try:
            _write_batches(conn, writer, generator, batches, per_commit, progress)
        finally:
            if conn.in_transaction():
                conn.rollback()
            restore()
    db.session.close()  # no open transaction of ours may hold back the visibility map
    writer.vacuum(db.engine)
    return generator.counts


def _continue_after(conn):
    """(next id of each table in COLUMNS, highest invoice number so far)."""
    next_ids = [conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
                for table in COLUMNS]
    invoice = conn.scalar(select(func.coalesce(func.max(TRANSACTIONS.c.invoice_number), 0)))
    return next_ids, invoice


def _write_batches(conn, writer, generator, batches, per_commit, progress):
    """Write every batch, committing every `per_commit`, behind a tqdm progress bar."""
    total = batches[-1][2] if batches else 0
    # One thread generates the next batch while this one waits on the database.
    with tqdm(total=total, unit=" customers", disable=not progress) as bar, \
            ThreadPoolExecutor(1) as ahead:
        pending = ahead.submit(generator.batch, *batches[0]) if batches else None
        for number, (first, stop, _) in enumerate(batches):
            rows = pending.result()
            if number + 1 < len(batches):
                pending = ahead.submit(generator.batch, *batches[number + 1])
            if not conn.in_transaction():
                conn.begin()
            for table, table_rows in rows.items():
                writer.write(table, table_rows)
            writer.after_batch()
            if (number + 1) % per_commit == 0 or number + 1 == len(batches):
                conn.commit()
            bar.update(stop - first)
