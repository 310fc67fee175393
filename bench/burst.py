"""A renewal-day burst of webhooks on RQ (issue 18), Stripe and PayPal, against the sandbox.

    python -m bench.burst --database-url postgresql+psycopg://postgres@127.0.0.1/bench_burst \\
        [--events 30000] [--rq-workers 2] [--workers 2] [--worker-threads 4]

The business exists before the day: customers, plans and subscriptions are written into the
database (a scratch database: it is emptied first) and mirrored into the sandbox (sandbox/, in
this process, on loopback), as the demo does. The day happens at the sandbox: every Stripe and
PayPal subscription renews (Stripe: charge.succeeded, invoice.paid,
customer.subscription.updated; PayPal: PAYMENT.SALE.COMPLETED, BILLING.SUBSCRIPTION.UPDATED),
PayPal one-off purchases are captured (PAYMENT.CAPTURE.COMPLETED), some payments are partly
refunded (charge.refunded + refund.created; PAYMENT.CAPTURE.REFUNDED) and a few disputed
(inquiries: charge.dispute.created, CUSTOMER.DISPUTE.CREATED). The sandbox's events are then
posted, signed as the gateways sign them, as fast as they are accepted (client processes ×
keep-alive connections) at gunicorn; RQ workers (`flask worker`) apply them. Children are
sometimes sent before their payment: the worker then fetches the payment from the sandbox.
Every PayPal delivery is verified by a call to the sandbox, as PayPal's are.

Reports accepted/s, applied/s (events applied over the time from the first receipt to the
last application), the p50/p95 lag from receipt to applied, how long after the last
acceptance the last event was applied, and checks the final state exactly: every event
processed once, one payment (and one import audit entry) per payment at the sandbox, every
refund and dispute recorded, the total lifetime value equal to what the sandbox's ledger adds
up to, and no customer whose stored value differs from its recomputed one.
"""
import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, insert, text

from bench.webhooks import REPO, _free_port, _pct, _wait_up

#: shares of the burst's events (they add up to 1)
MIX = {"stripe_renewal": 0.60 / 3, "stripe_refund": 0.05 / 2, "stripe_dispute": 0.005,
       "paypal_renewal": 0.20 / 2, "paypal_capture": 0.10, "paypal_refund": 0.04,
       "paypal_dispute": 0.005}
PRICE, PP_PRICE, CAPTURE, REFUND = 4900, 2900, 1900, 1000


def counts(events):
    """How many of each thing make about `events` events."""
    return {kind: max(1, round(events * share)) for kind, share in MIX.items()}


def seed_business(engine, n, period_end):
    """Customers, two plans and an active monthly subscription per customer (Stripe for the
    first n["stripe_renewal"], PayPal for the next n["paypal_renewal"]), all in the database."""
    from models import Customer, Plan, Subscription
    stripe_n, paypal_n = n["stripe_renewal"], n["paypal_renewal"]
    created = period_end - timedelta(days=40)
    customers, subs = [], []
    for i in range(stripe_n + paypal_n):
        stripe_side = i < stripe_n
        customers.append({
            "id": i + 1, "name": f"Burst Member {i}", "email": f"member{i}@example.com",
            "lifetime_value_cents": 0, "created_at": created,
            "stripe_customer_id": f"cus_burst{i:08d}" if stripe_side else None,
            "paypal_payer_id": None if stripe_side else f"BURST{i:08d}"})
        subs.append({
            "id": i + 1, "customer_id": i + 1, "plan_id": 1 if stripe_side else 2,
            "name": "Pro Monthly" if stripe_side else "Pro via PayPal", "status": "active",
            "price_cents": PRICE if stripe_side else PP_PRICE, "currency": "USD",
            "interval": "month", "interval_count": 1,
            "start_date": period_end - timedelta(days=30), "next_payment_date": period_end,
            "current_period_end": period_end, "cancel_at_period_end": False,
            "gateway": "stripe" if stripe_side else "paypal",
            "gateway_id": f"sub_burst{i:08d}" if stripe_side else f"I-BURST{i:08d}"})
    with engine.begin() as conn:
        conn.execute(insert(Plan.__table__), [
            {"id": 1, "name": "Pro Monthly", "price_cents": PRICE, "currency": "USD",
             "interval": "month", "interval_count": 1, "active": True,
             "stripe_price_id": "price_burst_pro", "paypal_plan_id": "P-BURSTPROSTRIPE0"},
            {"id": 2, "name": "Pro via PayPal", "price_cents": PP_PRICE, "currency": "USD",
             "interval": "month", "interval_count": 1, "active": True,
             "stripe_price_id": "price_burst_pp", "paypal_plan_id": "P-BURSTPROPAYPAL0"}])
        for start in range(0, len(customers), 2000):
            conn.execute(insert(Customer.__table__), customers[start:start + 2000])
            conn.execute(insert(Subscription.__table__), subs[start:start + 2000])
        if conn.dialect.name == "postgresql":
            for table in ("plan", "customer", "subscription"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))


def make_day(sb, n, when, seed=7):
    """The day at the sandbox; returns ([(vendor, event)] in sending order, the lifetime value
    the day adds in cents)."""
    rng = random.Random(seed)
    keyed = []  # (sort key, vendor, event)

    def collect(vendor, since, key):
        for event in getattr(sb, vendor).events[since:]:
            keyed.append((key + rng.uniform(0, 0.003), vendor, event))

    def child_key(parent_key, i):
        # most refunds and disputes come well after their payment; every 5th just before it
        return parent_key - 0.002 if i % 5 == 0 else parent_key + 0.01

    value = 0
    stripe_n, paypal_n = n["stripe_renewal"], n["paypal_renewal"]
    with sb.lock:
        charges = []
        for i in range(stripe_n):
            since = len(sb.stripe.events)
            sb.stripe.fall_due(f"sub_burst{i:08d}", when)
            sub = sb.stripe.subscriptions[f"sub_burst{i:08d}"]
            pi = sb.stripe.invoices[sub["latest_invoice"]]["payments"]["data"][0]["payment"][
                "payment_intent"]
            charges.append((sb.stripe.payment_intents[pi]["latest_charge"], i / stripe_n))
            collect("stripe", since, i / stripe_n)
            value += PRICE
        for i in range(paypal_n):
            since = len(sb.paypal.events)
            sb.paypal.fall_due(f"I-BURST{stripe_n + i:08d}", when)
            collect("paypal", since, i / paypal_n)
            value += PP_PRICE
        captures = []
        for i in range(n["paypal_capture"]):
            payer = f"BURST{stripe_n + i % paypal_n:08d}"
            capture = sb.paypal.capture(payer=payer, amount=CAPTURE, currency="USD",
                                        created=when, description="Course purchase",
                                        settlement=(CAPTURE, "USD", 96))
            since = len(sb.paypal.events)
            sb.paypal_event("PAYMENT.CAPTURE.COMPLETED", capture, "capture")
            key = i / n["paypal_capture"]
            collect("paypal", since, key)
            captures.append((capture["id"], key))
            value += CAPTURE
        step = max(1, len(charges) // (n["stripe_refund"] + n["stripe_dispute"]))
        picked = charges[::step]
        for i, (charge, key) in enumerate(picked[:n["stripe_refund"]]):
            since = len(sb.stripe.events)
            status, _ = sb.stripe._create_refund({"charge": charge, "amount": str(REFUND)})
            assert status == 200
            collect("stripe", since, child_key(key, i))
            value -= REFUND
        for i, (charge, key) in enumerate(picked[n["stripe_refund"]:][:n["stripe_dispute"]]):
            since = len(sb.stripe.events)
            sb.stripe.open_dispute(charge, reason="general")
            collect("stripe", since, child_key(key, i))
        step = max(1, len(captures) // (n["paypal_refund"] + n["paypal_dispute"]))
        picked = captures[::step]
        for i, (capture, key) in enumerate(picked[:n["paypal_refund"]]):
            since = len(sb.paypal.events)
            status, _ = sb.paypal._refund(capture, {"amount": {
                "value": f"{REFUND / 100:.2f}", "currency_code": "USD"}})
            assert status == 201
            collect("paypal", since, child_key(key, i))
            value -= REFUND
        for i, (capture, key) in enumerate(picked[n["paypal_refund"]:][:n["paypal_dispute"]]):
            since = len(sb.paypal.events)
            sb.paypal.open_dispute(capture)
            collect("paypal", since, child_key(key, i))
    keyed.sort(key=lambda item: item[0])
    return [(vendor, event) for _, vendor, event in keyed], value


def _client(args):
    """One client process: `threads` keep-alive connections posting its share of events."""
    base, items, threads, secrets = args
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests
    import stripe

    from sandbox.signing import paypal_signature
    local = threading.local()

    def send(item):
        vendor, body = item
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        data = body.encode()
        now = int(time.time())
        if vendor == "stripe":
            headers = {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                body, secrets["stripe"], timestamp=now)}
        else:
            sent = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            tid = os.urandom(16).hex()
            headers = {"PAYPAL-AUTH-ALGO": "SHA256withRSA",
                       "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/"
                                          "CERT-360caa42-fca2a594-sandbox",
                       "PAYPAL-TRANSMISSION-ID": tid, "PAYPAL-TRANSMISSION-TIME": sent,
                       "PAYPAL-TRANSMISSION-SIG": paypal_signature(tid, sent, secrets["paypal"],
                                                                   data)}
        headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        response = session.post(f"{base}/webhooks/{vendor}", data=data, headers=headers,
                                timeout=60)
        return time.perf_counter() - started, response.status_code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(send, items))


def post_all(base, items, clients, threads, secrets):
    shares = [(base, items[i::clients], threads, secrets) for i in range(clients)]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        return [r for part in pool.map(_client, shares) for r in part]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--events", type=int, default=30_000)
    p.add_argument("--rq-workers", type=int, default=2)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--worker-threads", type=int, default=4, help="gunicorn --threads")
    p.add_argument("--clients", type=int, default=2, help="client processes")
    p.add_argument("--threads", type=int, default=6, help="connections per client process")
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the drain")
    p.add_argument("--batch", type=int, default=None,
                   help="WEBHOOK_BATCH: events per transaction (default: the app's)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from sandbox.server import Server
    from sandbox.mirror import mirror
    server = Server().start()
    sb = server.sandbox
    env = {**os.environ, "DATABASE_URL": args.database_url, "MEMBERDESK_ENV": "production",
           "SECRET_KEY": "bench", "COOKIE_SECURE": "0", "REDIS_URL": args.redis_url,
           "DB_POOL_SIZE": "4", "DB_MAX_OVERFLOW": "4", "RQ_QUEUE": f"bench_burst_{os.getpid()}",
           "RATE_LIMIT_PREFIX": f"bench_burst_{os.getpid()}:ratelimit",
           "STRIPE_MAX_RETRIES": "1", "PAYPAL_MAX_RETRIES": "1",
           **{key: str(value) for key, value in server.config().items()}}
    if args.batch:
        env["WEBHOOK_BATCH"] = str(args.batch)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    try:
        subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True,
                       capture_output=True)
        engine = create_engine(args.database_url)
        with engine.begin() as conn:
            conn.execute(text('TRUNCATE webhook_event, audit_event, refund, dispute, '
                              '"transaction", subscription, customer, plan '
                              'RESTART IDENTITY CASCADE'))
        n = counts(args.events)
        period_end = sb.now_dt().replace(microsecond=0) - timedelta(hours=1)
        seed_business(engine, n, period_end)
        from admin_app import create_app
        app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench"})
        with app.app_context():
            from models import db
            mirror(sb, db.session)
            db.session.remove()
        day, value = make_day(sb, n, int(period_end.timestamp()))
        items = [(vendor, json.dumps(event, separators=(",", ":"))) for vendor, event in day]
        print(f"burst: {len(items)} events ({sum(v == 'paypal' for v, _ in items)} PayPal), "
              f"{n}", file=sys.stderr)
        port = _free_port()
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads",
             str(args.worker_threads), "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=REPO,
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers = [subprocess.Popen([*flask, "worker", "--name", f"burst-{os.getpid()}-{i}"],
                                    cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
                   for i in range(args.rq_workers)]
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_up(f"{base}/login")
            started = time.perf_counter()
            results = post_all(base, items, args.clients, args.threads,
                               {"stripe": sb.webhook_secret, "paypal": sb.paypal_webhook_id})
            accepted_wall = time.perf_counter() - started
            last_accepted = time.time()
            applied_at = _wait_applied(engine, len(items), args.timeout)
            drained_after = (applied_at - last_accepted) if applied_at else None
        finally:
            for proc in [gunicorn, *workers]:
                proc.terminate()
            for proc in [gunicorn, *workers]:
                proc.wait(60)
        lines = report(args, engine, app, items, results, accepted_wall, drained_after, value,
                       sb)
    finally:
        server.stop()
    for key, shown in lines.items():
        print(f"{key}={shown}")
    return 0 if lines["final_state_exact"] else 1


def _wait_applied(engine, total, timeout):
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FROM webhook_event WHERE status IN ('processed', 'ignored', "
                 "'failed')")
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar() >= total:
                return time.time()
        time.sleep(0.2)
    return None


def report(args, engine, app, items, results, accepted_wall, drained_after, expected_value,
           sb):
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
        refunds = conn.execute(text("SELECT count(*) FROM refund")).scalar()
        disputes = conn.execute(text("SELECT count(*) FROM dispute")).scalar()
        total_ltv = conn.execute(text(
            "SELECT coalesce(sum(lifetime_value_cents), 0) FROM customer")).scalar()
    lags = [float(r[0]) for r in rows if r[0] is not None]
    with app.app_context():
        drift = len(ltv.find_drift("USD"))
    statuses = {}
    for _, status, _ in rows:
        statuses[status] = statuses.get(status, 0) + 1
    with sb.lock:
        gateway_payments = sum(1 for c in sb.stripe.charges.values() if c["paid"]) + \
            len(sb.paypal.sales) + len(sb.paypal.captures)
        gateway_refunds = len(sb.stripe.refunds) + len(sb.paypal.refunds)
        gateway_disputes = len(sb.stripe.disputes) + len(sb.paypal.disputes)
    span = (last - first).total_seconds() if last and first else None
    return {
        "events": len(items), "paypal_events": sum(v == "paypal" for v, _ in items),
        "webhook_batch": args.batch or "default",
        "rq_workers": args.rq_workers, "gunicorn": f"{args.workers}x{args.worker_threads}",
        "accepted": ok, "accepted_per_s": round(ok / accepted_wall, 1),
        "applied_per_s": round(len(lags) / span, 1) if lags and span else None,
        "lag_s_p50": round(_pct(lags, 50), 2) if lags else None,
        "lag_s_p95": round(_pct(lags, 95), 2) if lags else None,
        "drained_s_after_last_accepted": round(drained_after, 1)
        if drained_after is not None else "timeout",
        "statuses": statuses,
        "events_tried_more_than_once": sum(1 for r in rows if r[2] != 1),
        "payments": payments, "payments_at_gateway": gateway_payments,
        "payment_audits": audits, "refunds": refunds, "refunds_at_gateway": gateway_refunds,
        "disputes": disputes, "disputes_at_gateway": gateway_disputes,
        "ltv_total": total_ltv, "ltv_expected": expected_value, "ltv_drift_customers": drift,
        "final_state_exact": total_ltv == expected_value and drift == 0
        and payments == audits == gateway_payments and refunds == gateway_refunds
        and disputes == gateway_disputes and statuses.get("processed") == len(items),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    sys.exit(main())
