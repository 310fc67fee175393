"""Benchmark of the customers CSV export through the app, logged in, streamed chunk by chunk."""
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from admin_app import create_app  # noqa: E402
from models import AdminUser, Customer, db  # noqa: E402

# `seed` migrates the database and adds customers with admin_app.seed.seed() (bare customers
# through a Core bulk insert where that module is missing). `export` downloads the CSV through
# the test client as a finance admin and prints export_rows=, export_s=, export_rows_per_s=;
# run it under /usr/bin/time -v for the peak RSS (the seed step stays out of that process).
USAGE = """usage:
    python bench/export_bench.py DATABASE_URL seed N_CUSTOMERS TX_PER_CUSTOMER
    python bench/export_bench.py DATABASE_URL export [QUERY_STRING]"""
EMAIL = "bench-finance@memberdesk.local"


def make_app(url):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "export-bench",
                       "SKIP_DB_CHECK": True, "AUTO_MIGRATE_SQLITE": False})


def bare_customers(n, batch=20_000):
    """Customers only (all the export reads), when admin_app.seed is not there yet."""
    start = (db.session.scalar(select(func.max(Customer.id))) or 0) + 1
    now = datetime.now(timezone.utc)
    for lo in range(start, start + n, batch):
        db.session.execute(insert(Customer.__table__), [
            dict(id=i, name=f"Customer {i}", email=f"bench{i}@example.com",
                 company=f"Company {i % 997}", city="Springfield", country="US",
                 postal_code=f"{i % 100000:05d}", lifetime_value_cents=(i * 7919) % 500000,
                 created_at=now)
            for i in range(lo, min(lo + batch, start + n))])
        db.session.commit()


def seed(app, n, per):
    with app.app_context():
        upgrade()
        try:
            from admin_app.seed import seed as seed_data
        except ImportError:
            print("admin_app.seed not found: seeding bare customers", file=sys.stderr)
            bare_customers(n)
            return
        seed_data(n, per, store_currency=app.config["STORE_CURRENCY"])


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
        total = db.session.scalar(select(func.count()).select_from(Customer))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user_key, True
        session["login_at"] = session["seen_at"] = time.time()  # admin_app/login_session.py
    return client, total


def export(app, query=""):
    client, total = logged_in_client(app)
    started = time.perf_counter()
    response = client.get("/admin/customer/export/csv/" + (f"?{query}" if query else ""),
                          buffered=False)
    assert response.status_code == 200, response.status_code
    records = size = 0
    for chunk in response.iter_encoded():
        records += chunk.count(b"\r\n")  # the writer ends records with CRLF, values with LF
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    rows = records - 1
    print(f"export_rows={rows}")
    print(f"export_s={seconds:.2f}")
    print(f"export_rows_per_s={rows / seconds:.0f}")
    print(f"export_bytes={size}")
    if not query and rows != total:
        print(f"warning: {total} customers in the database", file=sys.stderr)


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("seed", "export"):
        raise SystemExit(USAGE)
    app = make_app(sys.argv[1])
    if sys.argv[2] == "seed":
        seed(app, int(sys.argv[3]), int(sys.argv[4]))
    else:
        export(app, sys.argv[3] if len(sys.argv) > 3 else "")


if __name__ == "__main__":
    main()
