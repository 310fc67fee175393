"""Memberdesk's side of the benchmark: migrate, seed or reuse, log in, the requests to time."""
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from flask_migrate import upgrade
from sqlalchemy import func, select

from admin_app import create_app
from admin_app.cli import ensure_admin
from bench.heavy import HEAVY_EMAIL, ensure_heavy
from models import Customer, Subscription, Transaction, db

ADMIN_EMAIL, ADMIN_PASSWORD = "bench-owner@memberdesk.local", "benchmark-password-1"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LIST = "/admin/customer/"
REPO = Path(__file__).resolve().parent.parent


def log(message):
    print(message, file=sys.stderr, flush=True)


def make_app(url):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "memberdesk-bench",
                       "SKIP_DB_CHECK": True, "AUTO_MIGRATE_SQLITE": False,
                       "AVATAR_DIR": str(Path(tempfile.gettempdir()) / "md-bench-avatars")})


def prepare(app, n_customers, per_customer, random_seed):
    """Migrate, seed up to n_customers unless there are as many; returns facts about the data."""
    with app.app_context():
        log("ours: applying migrations")
        upgrade()
        others = Customer.email != HEAVY_EMAIL
        count = db.session.scalar(select(func.count()).select_from(Customer).where(others))
        # End this read's transaction: while it is open, the seed's VACUUM cannot mark the new
        # rows all-visible, and deep list pages stay 4x slower than after a real seed.
        db.session.commit()
        if count < n_customers:
            log(f"ours: {count} customers found, seeding {n_customers - count} more "
                f"(`flask seed`, {per_customer} transactions each)")
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", "seed", "--customers",
                 str(n_customers - count), "--transactions-per-customer", str(per_customer),
                 "--random-seed", str(random_seed)],
                cwd=REPO, check=True, stdout=sys.stderr,
                env={**os.environ, "DATABASE_URL": app.config["DATABASE_URL"],
                     "SECRET_KEY": app.config["SECRET_KEY"], "AUTO_MIGRATE_SQLITE": "0"})
        else:  # more than asked for (seeded for another run): reused, the table says so
            log(f"ours: reusing {count} customers (--customers {n_customers})")
        heavy = ensure_heavy(app.config["STORE_CURRENCY"])
        ensure_admin(ADMIN_EMAIL, "owner", ADMIN_PASSWORD)
        return facts(heavy)


def facts(heavy):
    """The customers, search terms and date range the timed requests use."""
    lo, hi = db.session.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
    candidates = db.session.execute(select(Customer.id, Customer.name, Customer.email)
                                    .where(Customer.id >= (lo + hi) // 2, Customer.id != heavy)
                                    .order_by(Customer.id).limit(200)).all()
    sample = next((c for c in candidates if re.fullmatch("[A-Za-z]{5,}", c.name.split()[-1])),
                  candidates[0])
    light = db.session.scalar(select(Subscription.customer_id)
                              .where(Subscription.customer_id != heavy)
                              .order_by(Subscription.id).limit(1))
    newest = db.session.scalar(select(func.max(Transaction.created_at))) or datetime.now(
        timezone.utc)
    return {
        "heavy_id": heavy, "light_id": light, "sample_id": sample.id,
        "email": sample.email, "name_fragment": sample.name.split()[-1][1:5],
        "domain_fragment": "inbox.example",
        "date_from": (newest - timedelta(days=60)).date().isoformat(),
        "date_to": (newest - timedelta(days=31)).date().isoformat(),
        "customers": db.session.scalar(select(func.count()).select_from(Customer)),
        "transactions": db.session.scalar(select(func.count()).select_from(Transaction)),
    }


def login(app):
    """A test client logged in through the real form (CSRF token read from the page)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page)
    if not token:
        raise RuntimeError("no CSRF token on /login")
    response = client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                                           "csrf_token": token.group(1)})
    if response.status_code != 302:
        raise RuntimeError(f"login failed with {response.status_code}")
    return client


def expect(*needles):
    """A page check: each needle appears in the body."""
    def check(body):
        for needle in needles:
            if needle not in body:
                raise RuntimeError(f"{needle!r} missing from the page")
    return check


def requests(f):
    """(figure, URL, page check) of every timed request on our side."""
    dates = quote(f"{f['date_from']} to {f['date_to']}")
    profile = f"{LIST}profile/{{}}/?modal=1"
    return [
        ("list_default", LIST, expect("Lifetime Value")),
        ("list_sorted_ltv_p1", f"{LIST}?sort=2&desc=1", expect(HEAVY_EMAIL)),
        ("list_sorted_ltv_p500", f"{LIST}?sort=2&desc=1&page=499", expect("Lifetime Value")),
        ("search_email_exact", f"{LIST}?search={quote(f['email'])}", expect(f["email"])),
        ("search_email_domain", f"{LIST}?search={quote(f['domain_fragment'])}",
         expect(f["domain_fragment"])),
        ("search_name", f"{LIST}?search={quote(f['name_fragment'])}", expect("Lifetime Value")),
        ("profile", profile.format(f["heavy_id"]), expect(HEAVY_EMAIL)),
        ("transactions_filtered", f"/admin/transaction/?flt0_0=stripe&flt1_2={dates}",
         expect("Stripe")),
        # Home (issue 19): the stored days and the indexed live counts; the warm-up requests
        # bring the days up to date, the timed ones find them current
        ("home", "/admin/", expect("MRR now", "md-bridge")),
    ]


def light_profile_url(f):
    return f"{LIST}profile/{f['light_id']}/?modal=1"
