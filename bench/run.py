"""Memberdesk against the vanilla Flask-Admin baseline: server-side times, queries, export."""
# python -m bench.run --database-url URL --customers N --transactions-per-customer K
# python -m bench.run --smoke        # tiny SQLite run for CI (fails on errors, not on goals)
# (from the repository's top directory, which makes `bench` importable as a package)
# Prints a side-by-side table, then one `name=value` line per figure (docs/PERFORMANCE.md).
import argparse
import os
import sys
from pathlib import Path

from admin_app.config import DEFAULTS
from bench import baseline, ours
from bench.export_bench import PATHS as EXPORT_PATHS
from bench.measure import database_or_temporary, install, run_measured, time_requests
from bench.report import GOALS_AT, evaluate, print_lines, print_table
from models import db

REPO = Path(__file__).resolve().parent.parent

log = ours.log
EXPORT_JOB_THRESHOLD = DEFAULTS["EXPORT_JOB_THRESHOLD"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="SQLAlchemy URL of an existing database "
                        "(sqlite:////abs/path.db or postgresql+psycopg://user@host/db)")
    parser.add_argument("--customers", type=int, default=GOALS_AT)
    parser.add_argument("--transactions-per-customer", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20, help="timed requests per figure")
    parser.add_argument("--warmups", type=int, default=2, help="untimed requests first")
    parser.add_argument("--baseline-repeats", type=int, default=5,
                        help="timed requests per baseline figure (it takes seconds at 1M)")
    parser.add_argument("--baseline", type=Path,
                        default=REPO.parent / "shared" / "bench" / "vanilla_admin.py",
                        help="path of vanilla_admin.py")
    parser.add_argument("--random-seed", type=int, default=7)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="2,000 customers on a temporary SQLite file, 3 repeats")
    args = parser.parse_args(argv)
    if args.smoke:
        args.customers, args.transactions_per_customer = 2000, 5
        args.repeats, args.warmups, args.baseline_repeats = 3, 1, 3
    elif not args.database_url:
        parser.error("--database-url is required (or use --smoke)")
    return args


def time_ours(args, app, data):
    """Our figures: {figure: {median, p95, queries}}."""
    timer = install(app)
    with app.app_context():
        timer.count_queries(db.engine)
    log("ours: logging in through /login")
    client = ours.login(app)
    results = {}
    for figure, url, check in ours.requests(data):
        log(f"ours: {figure}  GET {url}")
        try:
            results[figure] = time_requests(client, timer, url, args.repeats, args.warmups,
                                            check)
        except RuntimeError as exc:  # reported, and the run ends with a failure status
            log(f"ours: {figure} FAILED: {exc}")
            results[figure] = {"error": str(exc)}
    client.get(ours.light_profile_url(data))
    results["profile"]["light_queries"] = timer.last[1]
    with app.app_context():
        db.engine.dispose()
    return results


def time_baseline(args, vanilla, app):
    """The baseline's figures for the requests it has an equivalent of (None otherwise)."""
    timer = install(app)
    client = app.test_client()
    results = {}
    for figure, url in baseline.requests(args.customers).items():
        if url is None:
            results[figure] = None
            continue
        log(f"baseline: {figure}  GET {url}")
        results[figure] = time_requests(client, timer, url, args.baseline_repeats,
                                        min(args.warmups, 1))
    with app.app_context():
        vanilla.db.engine.dispose()
    return results


def export(args):
    """Rows/s and peak RSS of each export path, each in a process of its own; the job path
    runs above the job threshold (the app's, or half the customers on a small run)."""
    threshold = EXPORT_JOB_THRESHOLD if args.customers > EXPORT_JOB_THRESHOLD else max(
        1, args.customers // 2)
    mine = {}
    for path in EXPORT_PATHS:
        log(f"ours: {path} export in a subprocess (python -m bench.export_bench --path {path})")
        values, rss = run_measured("bench.export_bench", [
            args.database_url, "--path", path, "--job-threshold", str(threshold)])
        mine[path] = {"rows": int(values["export_rows"]),
                      "rows_per_s": float(values["export_rows_per_s"]),
                      "rows_per_cpu_s": float(values["export_rows_per_cpu_s"]), "peak_rss_mb": rss}
    log("baseline: export in a subprocess (python -m bench.vanilla_export)")
    theirs, theirs_rss = run_measured("bench.vanilla_export",
                                      [str(args.baseline), args.database_url])
    return mine, {"rows": int(theirs["export_rows"]),
                  "rows_per_s": float(theirs["export_rows_per_s"]),
                  "rows_per_cpu_s": float(theirs["export_rows_per_cpu_s"]),
                  "peak_rss_mb": theirs_rss}


def main(argv=None):
    args = parse_args(argv)
    with database_or_temporary(args.database_url, "md-bench-") as args.database_url:
        return _benchmark(args)


def _benchmark(args):
    log(f"benchmark: {args.customers} customers x {args.transactions_per_customer} "
        f"payments on {args.database_url.split(':', 1)[0]}")
    vanilla = baseline.load(args.baseline)
    app = ours.make_app(args.database_url)  # both data sets first, then the timings
    data = ours.prepare(app, args.customers, args.transactions_per_customer,
                        args.random_seed)
    vanilla_app = baseline.prepare(vanilla, args.database_url, args.customers,
                                   args.transactions_per_customer, log)
    args.load = [os.getloadavg()[0]]  # other work on the machine skews every figure
    mine = time_ours(args, app, data)
    theirs = time_baseline(args, vanilla, vanilla_app)
    args.load.append(os.getloadavg()[0])
    exports = (None, None) if args.skip_export else export(args)
    goals = evaluate(mine, theirs, exports)
    print_table(args, data, mine, theirs, exports, goals)
    print_lines(args, data, mine, theirs, exports, goals)
    failed = [name for name, result in mine.items() if "error" in result]
    if failed:
        log(f"benchmark: FAILED figures: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
