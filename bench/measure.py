"""Server-side request timing, SQL query counting and peak-RSS measurement of subprocesses."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event


class TimedWSGI:
    """Wraps app.wsgi_app: times each request until its body is fully produced, and the part
    of that time spent inside the database driver's execute (psycopg fetches the result there;
    SQLite's rows are stepped through later and count as Python)."""

    def __init__(self, wsgi_app):
        self.wsgi_app, self.queries, self.sql_seconds, self.last = wsgi_app, 0, 0.0, None
        self._started = []

    def count_queries(self, engine):
        """Count and time every statement the engine sends from now on."""
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args):
        self.queries += 1
        self._started.append(time.perf_counter())

    def _after(self, *args):
        self.sql_seconds += time.perf_counter() - self._started.pop()

    def __call__(self, environ, start_response):
        queries, sql, started = self.queries, self.sql_seconds, time.perf_counter()
        result = self.wsgi_app(environ, start_response)
        try:
            body = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        # (seconds, queries, seconds in SQL) of the last request
        self.last = (time.perf_counter() - started, self.queries - queries,
                     self.sql_seconds - sql)
        return body


@contextmanager
def database_or_temporary(url, prefix):
    """`url`, or without one a SQLite file in a temporary folder removed afterwards."""
    if url:
        yield url
        return
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield f"sqlite:///{tmp / 'bench.db'}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install(app):
    """Put a TimedWSGI around the app and return it."""
    timer = TimedWSGI(app.wsgi_app)
    app.wsgi_app = timer
    return timer


def percentile(values, pct):
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def time_requests(client, timer, url, repeats, warmups, check=None):
    """Median and p95 (ms) of the server-side time of GET url, the medians of its SQL and
    Python parts, and the queries of the last request."""
    samples, sql = [], []
    for i in range(warmups + repeats):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        if check and i == 0:
            check(response.get_data(as_text=True))
        if i >= warmups:
            samples.append(timer.last[0] * 1000)
            sql.append(timer.last[2] * 1000)
    return {"median": statistics.median(samples), "p95": percentile(samples, 95),
            "sql_median": statistics.median(sql),
            "python_median": statistics.median(s - q for s, q in zip(samples, sql)),
            "queries": timer.last[1], "n": len(samples)}


RSS_RE = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
REPO = Path(__file__).resolve().parent.parent
# Without GNU time the module reports its own peak (RUSAGE_CHILDREN would be the largest of
# every child so far, the seed included); the process's Python startup is part of both.
SELF_PEAK = ("import resource, runpy, sys\n"
             "sys.argv = sys.argv[1:]\n"
             "try:\n"
             "    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
             "finally:\n"
             "    print('peak_rss_kib=%d' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")


def run_measured(module, args, env=None, timeout=None):
    """Run `python -m module args` from the repository's top directory in a subprocess;
    returns (its name=value output, peak RSS in MiB)."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time:
        cmd = [gnu_time, "-v", sys.executable, "-m", module, *args]
    else:
        cmd = [sys.executable, "-c", SELF_PEAK, module, *args]
    run_env = {**os.environ, **(env or {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=timeout,
                          cwd=REPO)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n{tail}")
    values = {}
    for line in proc.stdout.splitlines():
        for part in line.split():
            if "=" in part:
                key, value = part.split("=", 1)
                values[key] = value
    if gnu_time:
        match = RSS_RE.search(proc.stderr)
        if not match:
            raise RuntimeError("no 'Maximum resident set size' in /usr/bin/time -v output")
        peak_kib = int(match.group(1))
    else:
        peak_kib = int(values["peak_rss_kib"])
    return values, peak_kib / 1024
