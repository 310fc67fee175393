"""Load benchmark: gunicorn (sync workers) on loopback, logged in through the real form, N
clients at once each sending list requests back to back for S seconds.

    python -m bench.load --database-url URL [--clients 1,4,8,16] [--seconds 15] [--workers 2]
    python -m bench.load --smoke     # 2,000 customers on a temporary SQLite file, 2 s per step

The database is prepared as `python -m bench.run` prepares it (migrated, seeded up to
--customers, the benchmark admin); clients mix the default list, the lifetime-value sort
(page 1 and page 500) and the three searches, each client starting at another request. The
clients are processes of their own (no GIL between them) on the same machine as the server:
on a 2-core machine they take CPU from it, and the figures say so (load average). Prints a
table and name=value lines: clients_<n>_req_per_s, clients_<n>_p50_ms, clients_<n>_p95_ms,
clients_<n>_errors."""
import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench import ours
from bench.measure import database_or_temporary, percentile
from bench.report import GOALS_AT

REPO = Path(__file__).resolve().parent.parent
MIX = ("list_default", "list_sorted_ltv_p1", "list_sorted_ltv_p500", "search_email_exact",
       "search_email_domain", "search_name")
GOAL_CLIENTS, GOAL_P95_MS, GOAL_REQ_PER_S = 8, 50, 200  # issue 22, on 2 workers
log = ours.log


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--customers", type=int, default=GOALS_AT)
    parser.add_argument("--transactions-per-customer", type=int, default=5)
    parser.add_argument("--clients", default="1,4,8,16")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--random-seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.customers, args.seconds, args.clients = 2000, 2, "1,4"
    elif not args.database_url:
        parser.error("--database-url is required (or use --smoke)")
    try:
        args.clients = [int(n) for n in args.clients.split(",")]
    except ValueError:
        parser.error("--clients takes whole numbers separated by commas, e.g. 1,4,8,16")
    if not args.clients or min(args.clients) < 1 or args.seconds <= 0:
        parser.error("--clients must be at least 1 and --seconds above 0")
    return args


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url, workers, log_file):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "memberdesk-bench",
           "MEMBERDESK_ENV": "production", "COOKIE_SECURE": "0", "SKIP_DB_CHECK": "1",
           "AUTO_MIGRATE_SQLITE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "wsgi:app"], cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            if requests.get(f"{base}/login", timeout=10).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not answer within 120 s")


def log_in(base):
    """One login through the real form (CSRF token read from the page); its session cookie is
    shared by every client (a login per client would meet the login throttle)."""
    session = requests.Session()
    token = ours.CSRF_RE.search(session.get(f"{base}/login", timeout=30).text)
    if not token:
        raise RuntimeError("no CSRF token on /login")
    answer = session.post(f"{base}/login", allow_redirects=False, timeout=30, data={
        "email": ours.ADMIN_EMAIL, "password": ours.ADMIN_PASSWORD,
        "csrf_token": token.group(1)})
    if answer.status_code != 302:
        raise RuntimeError(f"login failed with {answer.status_code}")
    return session.cookies.get_dict()


def client(base, cookies, urls, start, until, results):
    """Requests back to back until `until` (time.time()); (latencies in ms, errors) out."""
    session = requests.Session()
    session.cookies.update(cookies)
    latencies, errors, i = [], 0, start
    while time.time() < until:
        url = urls[i % len(urls)]
        i += 1
        began = time.perf_counter()
        try:
            ok = session.get(base + url, allow_redirects=False, timeout=30).status_code == 200
        except requests.RequestException:
            ok = False
        latencies.append((time.perf_counter() - began) * 1000)
        errors += not ok
    results.put((latencies, errors))


def step(base, cookies, urls, clients, seconds):
    results = multiprocessing.Queue()
    until = time.time() + 0.5 + seconds  # every process started before the clock runs
    procs = [multiprocessing.Process(target=client,
                                     args=(base, cookies, urls, n, until, results))
             for n in range(clients)]
    for proc in procs:
        proc.start()
    gathered = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    latencies = [ms for lat, _ in gathered for ms in lat]
    return {"clients": clients, "requests": len(latencies),
            "req_per_s": len(latencies) / seconds,
            "p50_ms": percentile(latencies, 50) if latencies else None,
            "p95_ms": percentile(latencies, 95) if latencies else None,
            "errors": sum(err for _, err in gathered)}


def main(argv=None):
    args = parse_args(argv)
    with database_or_temporary(args.database_url, "md-load-") as args.database_url:
        return _load(args)


def _load(args):
    app = ours.make_app(args.database_url)
    data = ours.prepare(app, args.customers, args.transactions_per_customer,
                        args.random_seed)
    urls = [url for figure, url, _ in ours.requests(data) if figure in MIX]
    with open(os.devnull, "w") as sink:
        server, base = start_gunicorn(args.database_url, args.workers, sink)
        try:
            cookies = log_in(base)
            for url in urls:  # warm each worker's caches once
                requests.get(base + url, cookies=cookies, timeout=60)
            load = [os.getloadavg()[0]]
            rows = []
            for clients in args.clients:
                log(f"load: {clients} client(s) for {args.seconds:g} s")
                rows.append(step(base, cookies, urls, clients, args.seconds))
            load.append(os.getloadavg()[0])
        finally:
            server.terminate()
            server.wait(30)
    report(args, data, rows, load)
    return 1 if any(row["errors"] for row in rows) else 0


def report(args, data, rows, load):
    backend = args.database_url.split(":", 1)[0].split("+")[0]
    print(f"\nLoad on gunicorn ({args.workers} sync workers) over loopback, {backend}, "
          f"{data['customers']:,} customers; {args.seconds:g} s per step; the list mix "
          f"{', '.join(MIX)}; 1-minute load average {load[0]:.2f} before, {load[1]:.2f} after "
          f"({os.cpu_count()} CPUs, clients on the same machine)\n")
    print(f"{'clients':>8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    for r in rows:
        print(f"{r['clients']:>8}{r['requests']:>10}{r['req_per_s']:>9.1f}"
              f"{r['p50_ms'] or 0:>9.1f}{r['p95_ms'] or 0:>9.1f}{r['errors']:>8}")
    print(f"\ngoal at {GOAL_CLIENTS} clients: p95 <= {GOAL_P95_MS} ms and >= {GOAL_REQ_PER_S} "
          f"req/s on 2 workers\n")
    print(f"backend={backend}\ncustomers={data['customers']}\nworkers={args.workers}")
    for r in rows:
        for key in ("req_per_s", "p50_ms", "p95_ms", "errors"):
            value = r[key]
            print(f"clients_{r['clients']}_{key}="
                  f"{value:.1f}" if isinstance(value, float) else
                  f"clients_{r['clients']}_{key}={value}")
    goal = next((r for r in rows if r["clients"] == GOAL_CLIENTS), None)
    if goal:
        met = goal["p95_ms"] <= GOAL_P95_MS and goal["req_per_s"] >= GOAL_REQ_PER_S
        print(f"goal_load_{GOAL_CLIENTS}_clients={'pass' if met else 'fail'}")


if __name__ == "__main__":
    sys.exit(main())
