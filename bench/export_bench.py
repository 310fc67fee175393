"""Benchmark of the customers CSV export on each of its paths, as a finance admin:

- `download`: `/admin/customer/export/csv/` streamed chunk by chunk (the job threshold raised
  above the table's size, so the streaming code is measured at any size);
- `job`: the same request with the configured threshold (`--job-threshold`): it must answer
  with the job's page; the job runs in this process (the queue's in-process fallback), writes
  the file into the file store, and the figure is the time until the job is done;
- `cli`: `flask export-customers FILE` (progress bar to stderr).

Prints export_path=, export_rows=, export_s=, export_rows_per_s=, export_cpu_s= (this
process's CPU time, all its threads: on a shared machine rows per CPU second is the steadier
figure; the database server's time is not in it), export_rows_per_cpu_s=, export_bytes=; bench.run runs
each path in a process of its own under /usr/bin/time -v for the peak RSS (the database is
seeded beforehand)."""
import argparse
import os
import sys
import tempfile
import time

from sqlalchemy import func, select

from admin_app import create_app
from admin_app.filestore import file_store
from models import AdminUser, Customer, Job, db

EMAIL = "bench-finance@memberdesk.local"
PATHS = ("download", "job", "cli")


def make_app(url, threshold=None, files_dir=None):
    config = {"DATABASE_URL": url, "SECRET_KEY": "export-bench", "SKIP_DB_CHECK": True,
              "AUTO_MIGRATE_SQLITE": False}
    if threshold is not None:
        config["EXPORT_JOB_THRESHOLD"] = threshold
    if files_dir is not None:
        config["FILE_STORE_DIR"] = files_dir
    return create_app(config)


def logged_in_client(app):
    """A test client holding a finance admin's session (Flask-Login's own session keys)."""
    # Set directly, not through /login: argon2 (64 MiB per hash) would sit in the peak RSS.
    with app.app_context():
        user = db.session.scalar(select(AdminUser).where(AdminUser.email == EMAIL))
        if user is None:  # a hash that matches no password: this account cannot log in
            user = AdminUser(email=EMAIL, role="finance", password_hash="!")
            db.session.add(user)
            db.session.commit()
        user_key = user.get_id()  # "<id>:<session token>", as the login stores it
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user_key, True
        session["login_at"] = session["seen_at"] = time.time()  # admin_app/login_session.py
    return client


def count_customers(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Customer))


def records(chunks):
    """(records, bytes) of a CSV stream: the writer ends records with CRLF, values with LF.
    A file read in blocks may split a CRLF between two of them (at 1M rows the job's and the
    command line's files lost a record or two that way)."""
    count = size = 0
    after_cr = False
    for chunk in chunks:
        count += chunk.count(b"\r\n") + (after_cr and chunk[:1] == b"\n")
        after_cr = chunk[-1:] == b"\r"
        size += len(chunk)
    return count, size


def download(app, query):
    response = logged_in_client(app).get(
        "/admin/customer/export/csv/" + (f"?{query}" if query else ""), buffered=False)
    if response.status_code != 200:
        raise SystemExit(f"download answered {response.status_code}, not the CSV")
    counted = records(response.iter_encoded())
    response.close()
    return counted


def job(app, query, timeout=3600):
    response = logged_in_client(app).get(
        "/admin/customer/export/csv/" + (f"?{query}" if query else ""))
    if response.status_code != 302 or "/jobs/" not in response.location:
        raise SystemExit(f"expected the job page (a list above the job threshold), got "
                         f"{response.status_code} {response.location}")
    with app.app_context():
        deadline = time.monotonic() + timeout
        while True:
            db.session.rollback()
            done = db.session.scalar(select(Job).order_by(Job.id.desc()).limit(1))
            if done.finished:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"job #{done.id} not finished after {timeout} s")
            time.sleep(0.05)
        if done.state != "done":
            raise SystemExit(f"job #{done.id} {done.state}: {done.message}")
        with file_store().open(done.output_key) as stored:
            return records(iter(lambda: stored.read(1 << 20), b""))


def cli(app, query):
    args = ["export-customers"]
    if query.startswith("search="):
        args += ["--search", query.split("=", 1)[1]]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "customers.csv")
        with app.app_context():  # as `flask` gives its commands
            result = app.test_cli_runner().invoke(args=args + [out])
        if result.exit_code != 0:
            raise SystemExit(f"flask export-customers failed: {result.output}")
        with open(out, "rb") as written:
            return records(iter(lambda: written.read(1 << 20), b""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("query", nargs="?", default="", help="e.g. search=inbox.example")
    parser.add_argument("--path", choices=PATHS, default="download")
    parser.add_argument("--job-threshold", type=int, default=None,
                        help="the job path's EXPORT_JOB_THRESHOLD (default: the app's)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="md-export-bench-") as files_dir:
        threshold = 2**62 if args.path == "download" else args.job_threshold
        app = make_app(args.database_url, threshold, files_dir)
        total = count_customers(app)
        started, cpu = time.perf_counter(), time.process_time()
        rows, size = {"download": download, "job": job, "cli": cli}[args.path](app, args.query)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows -= 1  # the header
    print(f"export_path={args.path}")
    print(f"export_rows={rows}")
    print(f"export_s={seconds:.2f}")
    print(f"export_rows_per_s={rows / seconds:.0f}")
    print(f"export_cpu_s={cpu:.2f}")
    print(f"export_rows_per_cpu_s={rows / max(cpu, 1e-6):.0f}")
    print(f"export_bytes={size}")
    if not args.query and rows != total:
        print(f"{total} customers in the database, {rows} exported", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
