"""Bulk subscription cancels as RQ jobs: rows per second and the share of worker time spent
waiting on the gateway rate limit (docs/PERFORMANCE.md, "Background jobs").

    python -m bench.jobs_bench --database-url postgresql+psycopg://postgres@127.0.0.1/bench \
        --rows 10000 --workers 2 [--rate 20] [--redis-url redis://127.0.0.1:6379/0]

Starts the Stripe of the sandbox (sandbox/: loopback, subscriptions API shapes, idempotent) with
--rows subscriptions, writes the same subscriptions into the database (its schema is dropped
and migrated first: use a scratch database), queues one cancel job per worker (each job takes
an equal share of the rows; a job runs on one worker at a time) and starts --workers
`flask worker --burst` processes. All workers draw from one Redis token bucket at --rate
requests/s; a cancel makes two requests (read, then cancel).
"""
import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select, text

from admin_app import create_app, jobs
from admin_app.cli import ensure_admin
from models import Customer, Job, Subscription, db
from sandbox.server import Server

REPO = Path(__file__).resolve().parent.parent

START = datetime(2026, 11, 20, tzinfo=timezone.utc)
END = datetime(2026, 12, 20, tzinfo=timezone.utc)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20.0, help="Stripe requests/s")
    return parser.parse_args(argv)


def seed(app, stripe, rows):
    """`rows` subscriptions in the sandbox's Stripe and in the database; returns their ids."""
    price = stripe.price(amount=3000, currency="usd", interval="month")
    start, end = int(START.timestamp()), int(END.timestamp())
    refs = []
    for i in range(rows):
        customer = stripe.customer(email=f"bench{i}@example.com", name=f"Bench {i}")
        refs.append(stripe.subscription(customer=customer["id"], price=price, status="active",
                                        start=start, period_start=start,
                                        period_end=end)["id"])
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.session.execute(insert(Customer.__table__), [
            {"id": i + 1, "name": f"Bench {i}", "email": f"bench{i}@example.com",
             "lifetime_value_cents": 0, "created_at": START} for i in range(rows)])
        db.session.execute(insert(Subscription.__table__), [
            {"id": i + 1, "customer_id": i + 1, "name": "Silver", "status": "active",
             "price_cents": 3000, "currency": "USD", "interval": "month", "interval_count": 1,
             "start_date": START, "next_payment_date": END, "current_period_end": END,
             "cancel_at_period_end": False, "gateway": "stripe", "gateway_id": ref}
            for i, ref in enumerate(refs)])
        db.session.commit()
        return [i + 1 for i in range(rows)]


def main(argv=None):
    args = parse_args(argv)
    queue_name = f"bench-{uuid.uuid4().hex[:8]}"
    config = {"DATABASE_URL": args.database_url, "SECRET_KEY": "memberdesk-bench",
              "SKIP_DB_CHECK": True, "AUTO_MIGRATE_SQLITE": False, "REDIS_URL": args.redis_url,
              "RQ_QUEUE": queue_name, "RATE_LIMIT_PREFIX": f"{queue_name}:ratelimit"}
    server = Server().start()
    try:
        stripe = server.sandbox.stripe
        app = create_app(config)
        ids = seed(app, stripe, args.rows)
        env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": "memberdesk-bench",
               "REDIS_URL": args.redis_url, "RQ_QUEUE": queue_name,
               "RATE_LIMIT_PREFIX": config["RATE_LIMIT_PREFIX"],
               "STRIPE_API_KEY": server.sandbox.stripe_key,
               "STRIPE_API_BASE": server.stripe_base, "STRIPE_MAX_RETRIES": "0",
               "STRIPE_RATE_LIMIT": str(args.rate), "AUTO_MIGRATE_SQLITE": "0"}
        with app.app_context():
            actor = ensure_admin("bench-finance@memberdesk.local", "finance", "bench-password-1")
            share = -(-len(ids) // args.workers)
            job_ids = [jobs.create_job(actor, "cancel_subscription",
                                       {"view": "subscription", "ids": ids[i:i + share]},
                                       {"when": "period_end"}).id
                       for i in range(0, len(ids), share)]
        started = time.monotonic()
        workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                                     "--burst"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(args.workers)]
        for worker in workers:
            worker.wait()
        wall = time.monotonic() - started
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        report(app, job_ids, wall, cpu, stripe, args)
    finally:
        server.stop()


def report(app, job_ids, wall, cpu, stripe, args):
    with app.app_context():
        found = db.session.scalars(select(Job).where(Job.id.in_(job_ids))).all()
        done = sum(j.done_count for j in found)
        failed = sum(j.failed_count + j.skipped_count for j in found)
        waited = sum(j.rate_wait_seconds for j in found)
    cancels = sum(1 for sub in stripe.subscriptions.values() if sub["cancel_at_period_end"])
    worker_seconds = wall * args.workers
    cap = args.rate / 2  # two requests per cancel
    print(f"rows={args.rows} workers={args.workers} rate_limit={args.rate:g}/s "
          f"(cap {cap:g} rows/s)")
    print(f"done={done} failed_or_skipped={failed} gateway_cancels={cancels}")
    print(f"wall_seconds={wall:.1f} rows_per_second={done / wall:.2f} "
          f"share_of_cap={done / wall / cap:.2f}")
    print(f"rate_limit_wait_share={waited / worker_seconds:.2f} "
          f"worker_cpu_ms_per_row={1000 * (cpu.ru_utime + cpu.ru_stime) / max(done, 1):.1f}")


if __name__ == "__main__":
    main()
