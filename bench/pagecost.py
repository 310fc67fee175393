"""Page cost that the machine's load does not skew: CPU time, and Python calls, per request.

    python -m bench.pagecost --database-url sqlite:////tmp/bench.db [--customers 2000]
        [--repeats 30] [--figures list_default,list_sorted_ltv_p1] [--calls]

On a loaded machine wall-clock milliseconds mostly measure the other processes. This times
each request in process CPU time (time.process_time), alternating ours and the plain
Flask-Admin panel request by request on the same data in the same process, and prints the
ratio (plain / ours: >= 1.0 means ours costs no more), and beside each side the SQL
statements of a request and the CPU time spent executing them (the database driver's
execute; on SQLite the database works in this process), so that the Python rest shows apart.
--calls counts the Python function calls of one request (cProfile), which no load changes.
Seeds like bench.run when the database has fewer customers.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench import baseline, ours

REPO = Path(__file__).resolve().parent.parent


class SqlMeter:
    """Statements executed, and CPU ms inside the driver's execute, since the last reset."""

    def __init__(self):
        self.statements, self.ms, self._started = 0, 0.0, None
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _before(self, *_args):
        self._started = time.process_time()

    def _after(self, *_args):
        self.statements += 1
        self.ms += (time.process_time() - self._started) * 1000

    def reset(self):
        self.statements, self.ms = 0, 0.0


SQL = SqlMeter()


def cpu_ms(client, url, sql=None):
    SQL.reset()
    started = time.process_time()
    response = client.get(url)
    elapsed = (time.process_time() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    if sql is not None:
        sql.append((SQL.statements, SQL.ms))
    return elapsed


def sql_text(measured):
    """'5 stmts 0.61' : statements of a request and their median execute CPU ms."""
    return (f"{statistics.median(n for n, _ in measured):.0f} stmts "
            f"{statistics.median(ms for _, ms in measured):5.2f}")


def calls(client, url):
    client.get(url)
    profile = cProfile.Profile()
    profile.enable()
    client.get(url)
    profile.disable()
    return pstats.Stats(profile).total_calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--figures", default="list_default,list_sorted_ltv_p1,"
                        "search_email_domain")
    parser.add_argument("--calls", action="store_true")
    parser.add_argument("--baseline", type=Path,
                        default=REPO.parent / "shared" / "bench" / "vanilla_admin.py")
    args = parser.parse_args(argv)
    vanilla = baseline.load(args.baseline)
    app = ours.make_app(args.database_url)
    data = ours.prepare(app, args.customers, 5, 7)
    vanilla_app = baseline.prepare(vanilla, args.database_url, args.customers, 5, ours.log)
    mine, theirs = ours.login(app), vanilla_app.test_client()
    urls = {figure: url for figure, url, _check in ours.requests(data)}
    base_urls = baseline.requests(args.customers)
    for figure in args.figures.split(","):
        url, base_url = urls[figure], base_urls.get(figure)
        if args.calls:
            line = f"{figure:24s} calls ours {calls(mine, url):7d}"
            if base_url:
                line += f"  plain {calls(theirs, base_url):7d}"
            print(line)
            continue
        for _ in range(2):
            cpu_ms(mine, url)
            if base_url:
                cpu_ms(theirs, base_url)
        a, b, sql_a, sql_b = [], [], [], []
        for _ in range(args.repeats):  # alternating, so both see the same load
            a.append(cpu_ms(mine, url, sql_a))
            if base_url:
                b.append(cpu_ms(theirs, base_url, sql_b))
        line = f"{figure:24s} CPU ms ours {statistics.median(a):6.2f} (SQL {sql_text(sql_a)})"
        if b:
            line += (f"  plain {statistics.median(b):6.2f} (SQL {sql_text(sql_b)})  ratio "
                     f"{statistics.median(b) / statistics.median(a):.2f}")
        print(f"{line}  (load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
