"""A renewal-day burst of webhooks on RQ (issue 18): signed events posted at the endpoint as
fast as they are accepted (gunicorn), applied by RQ workers (`flask worker`, long-lived, lanes
drained in batches) on PostgreSQL. Reports accepted/s, applied/s, the p50/p95 lag from receipt
to applied, and checks the final state exactly: every event applied once (processed, one
attempt, one audit entry per payment), every customer's lifetime value equal to its recomputed
value and the total equal to what the events add up to.

    python -m bench.burst --database-url postgresql+psycopg://postgres@127.0.0.1/bench_burst \\
        [--events 30000] [--rq-workers 2] [--workers 2] [--worker-threads 4]

The mix (Stripe): charge.succeeded (balance transaction expanded), invoice.paid (a renewal),
refund.created (a partial refund of an earlier charge), charge.dispute.created (an inquiry:
no money moves). PayPal events need PayPal's verification call for every delivery and are not
in this mix (see docs/PERFORMANCE.md). The database is emptied first: use a scratch database.
"""
import argparse
import json
import os
import subprocess
import sys
import time

from sqlalchemy import create_engine, text

from bench.webhooks import REPO, SECRET, _free_port, _pct, _run_clients, _wait_up

AMOUNT, REFUND, FEE = 4900, 1000, 172


def burst_event(n):
    """Event n of the burst: its JSON, and what it adds to lifetime values (cents)."""
    customer = f"cus_burst{n // 4:08d}"
    base = {"customer": customer, "currency": "usd", "created": 1767312000 + n}
    kind = n % 20
    if kind == 3:  # a partial refund of this customer's first charge (event n - 3)
        charge = f"ch_burst{n - 3:09d}"
        obj = {"id": f"re_burst{n:09d}", "object": "refund", "amount": REFUND,
               "charge": charge, "payment_intent": f"pi_burst{n - 3:09d}",
               "status": "succeeded", "balance_transaction": None, "reason": None,
               "currency": "usd", "created": 1767312000 + n}
        return _wrap(n, "refund.created", obj), -REFUND
    if kind == 7:  # an inquiry about the customer's first charge: no money moves
        obj = {"id": f"dp_burst{n:09d}", "object": "dispute", "amount": AMOUNT,
               "charge": f"ch_burst{n - 7:09d}",
               "payment_intent": f"pi_burst{n - 7:09d}", "status": "warning_needs_response",
               "reason": "general", "balance_transactions": [], **base}
        return _wrap(n, "charge.dispute.created", obj), 0
    if n % 4 == 1:  # a renewal
        obj = {"id": f"in_burst{n:09d}", "object": "invoice", "amount_paid": AMOUNT,
               "payment_intent": f"pi_burst{n:09d}", "status": "paid",
               "customer_email": f"{customer}@example.com", "customer_name": customer,
               "status_transitions": {"paid_at": 1767312000 + n}, **base}
        return _wrap(n, "invoice.paid", obj), AMOUNT
    obj = {"id": f"ch_burst{n:09d}", "object": "charge", "amount": AMOUNT,
           "payment_intent": f"pi_burst{n:09d}", "status": "succeeded",
           "description": "Course purchase", "billing_details": {
               "email": f"{customer}@example.com", "name": customer},
           "balance_transaction": {"id": f"txn_burst{n:09d}", "amount": AMOUNT,
                                   "currency": "usd", "fee": FEE}, **base}
    return _wrap(n, "charge.succeeded", obj), AMOUNT


def _wrap(n, kind, obj):
    return json.dumps({"id": f"evt_burst{n:09d}", "object": "event", "type": kind,
                       "created": 1767312000 + n, "api_version": "2026-10-28",
                       "data": {"object": obj}}, separators=(",", ":"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--events", type=int, default=30_000)
    p.add_argument("--rq-workers", type=int, default=2)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--worker-threads", type=int, default=4, help="gunicorn --threads")
    p.add_argument("--clients", type=int, default=2, help="client processes")
    p.add_argument("--threads", type=int, default=6, help="connections per client process")
    args = p.parse_args(argv)
    args.reject_only = False
    env = {**os.environ, "DATABASE_URL": args.database_url, "MEMBERDESK_ENV": "production",
           "SECRET_KEY": "bench", "COOKIE_SECURE": "0", "STRIPE_WEBHOOK_SECRET": SECRET,
           "STRIPE_API_KEY": "", "REDIS_URL": args.redis_url, "DB_POOL_SIZE": "4",
           "DB_MAX_OVERFLOW": "4", "RQ_QUEUE": f"bench_burst_{os.getpid()}"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    engine = create_engine(args.database_url)
    with engine.begin() as conn:
        conn.execute(text('TRUNCATE webhook_event, audit_event, refund, dispute, "transaction", '
                          "subscription, customer RESTART IDENTITY CASCADE"))
    expected = sum(burst_event(n)[1] for n in range(args.events))
    port = _free_port()
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads",
         str(args.worker_threads), "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([*flask, "worker", "--name", f"burst-{os.getpid()}-{i}"],
                                cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for i in range(args.rq_workers)]
    import bench.webhooks as hooks
    hooks.event = lambda n: burst_event(n)[0]  # the client processes send the burst's events
    try:
        url = f"http://127.0.0.1:{port}/webhooks/stripe"
        _wait_up(f"http://127.0.0.1:{port}/login")
        started = time.perf_counter()
        results = _run_clients(url, list(range(args.events)), args)
        accepted_wall = time.perf_counter() - started
        last_accepted = time.time()
        applied_at = _wait_applied(engine, args.events)
        drained_after = (applied_at - last_accepted) if applied_at else None
    finally:
        for proc in [gunicorn, *workers]:
            proc.terminate()
        for proc in [gunicorn, *workers]:
            proc.wait(30)
    _report(args, engine, results, accepted_wall, drained_after, expected)


def _wait_applied(engine, total, timeout=900):
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FROM webhook_event WHERE status IN ('processed', 'ignored', "
                 "'failed')")
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar() >= total:
                return time.time()
        time.sleep(0.2)
    return None


def _report(args, engine, results, accepted_wall, drained_after, expected):
    from admin_app import create_app
    from actions import ltv
    ok = sum(1 for _, status in results if status == 200)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT extract(epoch FROM processed_at - received_at), status, attempts "
            "FROM webhook_event")).all()
        first, last = conn.execute(text(
            "SELECT min(received_at), max(processed_at) FROM webhook_event")).one()
        payments = conn.execute(text('SELECT count(*) FROM "transaction"')).scalar()
        audits = conn.execute(text("SELECT count(*) FROM audit_event "
                                   "WHERE action = 'payment.imported'")).scalar()
        total_ltv = conn.execute(text(
            "SELECT coalesce(sum(lifetime_value_cents), 0) FROM customer")).scalar()
    lags = [float(r[0]) for r in rows if r[0] is not None]
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench"})
    with app.app_context():
        drift = len(ltv.find_drift("USD"))
    statuses = {}
    for _, status, _ in rows:
        statuses[status] = statuses.get(status, 0) + 1
    lines = {
        "events": args.events, "rq_workers": args.rq_workers,
        "gunicorn": f"{args.workers}x{args.worker_threads}",
        "accepted": ok, "accepted_per_s": round(ok / accepted_wall, 1),
        "applied_per_s": round(len(lags) / (last - first).total_seconds(), 1)
        if lags and last and first else None,
        "lag_s_p50": round(_pct(lags, 50), 2) if lags else None,
        "lag_s_p95": round(_pct(lags, 95), 2) if lags else None,
        "drained_s_after_last_accepted": round(drained_after, 1)
        if drained_after is not None else "timeout",
        "statuses": statuses,
        "events_tried_more_than_once": sum(1 for r in rows if r[2] != 1),
        "payments": payments, "payment_audits": audits,
        "ltv_total": total_ltv, "ltv_expected": expected, "ltv_drift_customers": drift,
        "final_state_exact": total_ltv == expected and drift == 0 and payments == audits
        and statuses.get("processed") == args.events,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    for key, value in lines.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
