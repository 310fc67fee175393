"""Benchmark of the customers CSV export through the app, logged in, streamed chunk by chunk."""
import sys
import time

from sqlalchemy import func, select

from admin_app import create_app
from models import AdminUser, Customer, db

# Downloads the CSV through the test client as a finance admin and prints export_rows=,
# export_s=, export_rows_per_s=, export_bytes=; bench.run runs it in a process of its own
# under /usr/bin/time -v for the peak RSS (the database is seeded beforehand).
USAGE = "usage: python -m bench.export_bench DATABASE_URL [QUERY_STRING]"
EMAIL = "bench-finance@memberdesk.local"


def make_app(url):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "export-bench",
                       "SKIP_DB_CHECK": True, "AUTO_MIGRATE_SQLITE": False})


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
    if len(sys.argv) not in (2, 3):
        raise SystemExit(USAGE)
    export(make_app(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")


if __name__ == "__main__":
    main()
