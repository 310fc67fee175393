"""The vanilla Flask-Admin baseline (vanilla_admin.py): load, seed or reuse, requests to time."""
import importlib.util
import sys
from urllib.parse import quote

from sqlalchemy import create_engine, inspect, text

LIST = "/admin/customer/"


def load(path):
    """Import vanilla_admin.py from its path as module `vanilla_admin`."""
    if not path.is_file():
        raise SystemExit(f"baseline not found at {path}: pass --baseline PATH/vanilla_admin.py")
    spec = importlib.util.spec_from_file_location("vanilla_admin", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["vanilla_admin"] = module
    spec.loader.exec_module(module)
    return module


def seeded_size(url):
    """(customers, payments) in bl_customer / bl_txn, or None when the tables are missing."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not {"bl_customer", "bl_txn"} <= set(inspect(conn).get_table_names()):
                return None
            return tuple(conn.scalar(text(f"SELECT count(*) FROM {t}"))
                         for t in ("bl_customer", "bl_txn"))
    finally:
        engine.dispose()


def prepare(vanilla, url, n_customers, per_customer, log):
    """The baseline app on tables of the requested size (seeded by vanilla_admin itself)."""
    app = vanilla.make_app(url)
    wanted = (n_customers, n_customers * per_customer)
    found = seeded_size(url)
    if found == wanted:
        log(f"baseline: reusing {found[0]} customers, {found[1]} payments")
    else:
        log(f"baseline: seeding {n_customers} customers x {per_customer} payments "
            f"(vanilla_admin seed; was {found})")
        vanilla.seed(app, n_customers, per_customer)
    return app


def requests(n_customers):
    """(figure, URL) of the baseline request equivalent to each of ours; None: no equivalent."""
    mid = max(1, n_customers // 2)
    return {
        "list_default": LIST,
        "list_sorted_ltv_p1": f"{LIST}?sort=4&desc=1",
        "list_sorted_ltv_p500": f"{LIST}?sort=4&desc=1&page=499",
        "search_email_exact": f"{LIST}?search={quote(f'c{mid}@example.com')}",
        "search_email_domain": f"{LIST}?search={quote('@example.com')}",
        "search_name": f"{LIST}?search={quote(f'ustomer {mid}')}",
        "profile": None,
        "transactions_filtered": None,
        "home": None,  # the vanilla panel has no dashboard
    }
