"""Home (issue 19) on its own: server-side time of /admin/ and its JSON, the rebuild, and one
incremental refresh after a change. Not a test: timings only (docs/PERFORMANCE.md).

    python -m bench.home_bench --database-url URL --customers N [--repeats 20]

Seeds up to N customers like bench.run (`flask seed`, which also runs `flask metrics
rebuild`), then prints `name=value` lines. The goal: Home <= 50 ms server-side at 1,000,000
customers on PostgreSQL.
"""
import argparse
import os
import time

from sqlalchemy import select

from admin_app.metrics_cli import rebuild_all
from bench import ours
from bench.measure import install, time_requests
from models import MetricsDay, Subscription, db
from models._types import utcnow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--transactions-per-customer", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args(argv)
    app = ours.make_app(args.database_url)
    data = ours.prepare(app, args.customers, args.transactions_per_customer, 7)
    lines = {"customers": data["customers"], "transactions": data["transactions"]}
    with app.app_context():
        if not args.skip_rebuild:
            began = time.perf_counter()
            rebuild_all(progress=False)
            lines["rebuild_s"] = f"{time.perf_counter() - began:.1f}"
        lines["days"] = db.session.scalar(select(db.func.count()).select_from(MetricsDay))
    timer = install(app)
    with app.app_context():  # count and time the statements too (was: 0 queries shown)
        timer.count_queries(db.engine)
    client = ours.login(app)
    for name, url in (("home", "/admin/"), ("mrr_json", "/admin/metrics/mrr.json?months=12")):
        result = time_requests(client, timer, url, args.repeats, 2)
        lines.update({f"{name}_median_ms": f"{result['median']:.1f}",
                      f"{name}_p95_ms": f"{result['p95']:.1f}",
                      f"{name}_sql_ms": f"{result['sql_median']:.1f}",
                      f"{name}_queries": result["queries"]})
    with app.app_context():  # one change today: the next Home recomputes today only
        sub = db.session.scalar(select(Subscription).where(Subscription.status == "active")
                                .order_by(Subscription.id.desc()).limit(1))
        sub.price_cents += 100
        sub_id = sub.id
        db.session.commit()
    after = time_requests(client, timer, "/admin/", 1, 0)  # the refresh of today
    lines["home_after_a_change_ms"] = f"{after['median']:.1f}"
    lines["home_after_a_change_sql_ms"] = f"{after['sql_median']:.1f}"
    lines["home_after_a_change_queries"] = after["queries"]
    with app.app_context():
        sub = db.session.get(Subscription, sub_id)
        sub.price_cents -= 100
        db.session.commit()
    lines["measured_at"] = utcnow().isoformat(timespec="seconds")
    lines["load_average"] = " ".join(f"{n:.2f}" for n in os.getloadavg())
    for key, value in lines.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
