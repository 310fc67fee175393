"""Webhook ingestion on PostgreSQL behind gunicorn: events accepted per second, endpoint
latency (p50/p95/p99, measured by the client over real HTTP on loopback) and events
processed per second (from the stored received/processed times).

    python bench/webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_hooks \
        [--events 5000] [--clients 2] [--threads 8] [--workers 2] [--worker-threads 1]

The database is emptied of webhook events, customers and payments first (use a scratch
database). Each event is a signed Stripe charge.succeeded for a new customer (balance
transaction expanded, so processing needs no call to Stripe). Processing runs in each
gunicorn worker's background thread (no REDIS_URL), as in the default deployment.
"""
import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import stripe
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
SECRET = "whsec_bench_secret"


def event(n):
    charge = {"id": f"ch_bench{n:09d}", "object": "charge", "amount": 4900, "currency": "usd",
              "created": 1767312000 + n, "customer": f"cus_bench{n:09d}",
              "payment_intent": f"pi_bench{n:09d}", "status": "succeeded",
              "description": "Bench purchase", "billing_details": {
                  "email": f"bench{n}@example.com", "name": f"Bench {n}"},
              "balance_transaction": {"id": f"txn_bench{n:09d}", "amount": 4900,
                                      "currency": "usd", "fee": 172}}
    return json.dumps({"id": f"evt_bench{n:09d}", "object": "event", "type": "charge.succeeded",
                       "created": 1767312000 + n, "api_version": "2026-10-28",
                       "data": {"object": charge}}, separators=(",", ":"))


def _client(args):
    """One client process: `threads` keep-alive connections sending its share of events."""
    url, numbers, threads, secret = args
    from concurrent.futures import ThreadPoolExecutor
    import threading
    local = threading.local()

    def send(n):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        body = event(n)
        header = stripe.WebhookSignature.generate_signature_header(body, secret)
        started = time.perf_counter()
        response = session.post(url, data=body, headers={
            "Stripe-Signature": header, "Content-Type": "application/json"}, timeout=30)
        return time.perf_counter() - started, response.status_code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(send, numbers))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pct(values, pct):
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * pct // 100) - 1)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--events", type=int, default=5000)
    p.add_argument("--clients", type=int, default=2, help="client processes")
    p.add_argument("--threads", type=int, default=8, help="connections per client process")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--worker-threads", type=int, default=1,
                   help="gunicorn --threads (1: sync workers)")
    p.add_argument("--async-commit", action="store_true",
                   help="PGOPTIONS=-c synchronous_commit=off for the server (a trade-off: "
                        "a PostgreSQL crash may lose events answered in its last ~0.6 s)")
    p.add_argument("--rq-workers", type=int, default=0,
                   help="process on RQ: REDIS_URL set and this many `flask worker` processes")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--reject-only", action="store_true",
                   help="send wrongly signed events (answered 400, no database write): the "
                        "ceiling of HTTP + Flask + signature check on this machine")
    args = p.parse_args(argv)
    env = {**os.environ, "DATABASE_URL": args.database_url, "MEMBERDESK_ENV": "production",
           "SECRET_KEY": "bench", "COOKIE_SECURE": "0", "STRIPE_WEBHOOK_SECRET": SECRET,
           "STRIPE_API_KEY": "", "REDIS_URL": "", "DB_POOL_SIZE": "4", "DB_MAX_OVERFLOW": "4"}
    if args.async_commit:
        env["PGOPTIONS"] = "-c synchronous_commit=off"
    if args.rq_workers:
        env.update(REDIS_URL=args.redis_url, RQ_QUEUE=f"bench_webhooks_{os.getpid()}")
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    engine = create_engine(args.database_url)
    with engine.begin() as conn:
        conn.execute(text('TRUNCATE webhook_event, audit_event, refund, dispute, "transaction", '
                          "subscription, customer RESTART IDENTITY CASCADE"))
    port = _free_port()
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads",
         str(args.worker_threads), "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([*flask, "worker", "--name", f"bench-{os.getpid()}-{i}"],
                                cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for i in range(args.rq_workers)]
    try:
        url = f"http://127.0.0.1:{port}/webhooks/stripe"
        _wait_up(f"http://127.0.0.1:{port}/login")
        _run_clients(url, list(range(-200, 0)), args)  # warm-up: connections, pools, JIT-less
        started = time.perf_counter()
        results = _run_clients(url, list(range(args.events)), args)
        wall = time.perf_counter() - started
        processed = (0, None) if args.reject_only else _wait_processed(engine, args.events + 200)
    finally:
        for proc in [gunicorn, *workers]:
            proc.terminate()
        for proc in [gunicorn, *workers]:
            proc.wait(30)
    _report(args, results, wall, processed)


def _wait_up(url):
    for _ in range(300):
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _run_clients(url, numbers, args):
    secret = "whsec_wrong" if args.reject_only else SECRET
    shares = [(url, numbers[i::args.clients], args.threads, secret)
              for i in range(args.clients)]
    with multiprocessing.Pool(args.clients) as pool:
        return [r for part in pool.map(_client, shares) for r in part]


def _wait_processed(engine, total, timeout=600):
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FILTER (WHERE status = 'processed'), count(*), "
                 "min(received_at) FILTER (WHERE event_id >= 'evt_bench000000000'), "
                 "max(processed_at) FROM webhook_event")
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            done, stored, first, last = conn.execute(query).one()
        if done >= total:
            return done, (last - first).total_seconds()
        time.sleep(0.5)
    return done, None


def _report(args, results, wall, processed):
    latencies = [r[0] * 1000 for r in results]
    ok = sum(1 for r in results if r[1] == (400 if args.reject_only else 200))
    done, seconds = processed
    lines = {
        "events": args.events, "gunicorn_workers": args.workers,
        "gunicorn_threads": args.worker_threads, "async_commit": args.async_commit,
        "rq_workers": args.rq_workers, "reject_only": args.reject_only,
        "client_connections": args.clients * args.threads,
        "answered_as_expected": ok, "answered_per_s": round(ok / wall, 1),
        "latency_ms_p50": round(_pct(latencies, 50), 1),
        "latency_ms_p95": round(_pct(latencies, 95), 1),
        "latency_ms_p99": round(_pct(latencies, 99), 1),
        "processed": done,
        "processed_per_s": round(done / seconds, 1) if seconds else "timeout",
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    for key, value in lines.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
