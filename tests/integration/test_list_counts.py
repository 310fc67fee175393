"""List pages never count a whole table: exact when small, "about N" or "N+" when big."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from admin_app.views.base import SecureModelView
from admin_app.views.customers import CustomerView
from models import db
from tests import factories
from tests.sql_spy import statements

UTC = timezone.utc

LIST_PAGES = [
    "/admin/customer/", "/admin/customer/?search=customer", "/admin/customer/?search=c",
    "/admin/customer/?search=customer+example", "/admin/customer/?sort=2&desc=1&page=1",
    "/admin/customer/?sort=0&search=customer", "/admin/transaction/",
    "/admin/transaction/?flt0_0=stripe", "/admin/transaction/?flt0_2=2026-01-01+to+2026-01-31",
    "/admin/transaction/?search=customer", "/admin/subscription/",
    "/admin/subscription/?flt0_1=active", "/admin/plan/", "/admin/affiliate/", "/admin/audit/",
]


def _many(n):
    plan = factories.plan()
    for _ in range(n):
        customer = factories.customer()
        factories.payment(customer, 1000)
        factories.subscription(customer, plan)
    db.session.commit()


def _tab(page):
    return re.search(r'nav-link active">List(?: \((.*?)\))?</a>', page).group(1)


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(SecureModelView, "count_cap", 3)


def test_no_list_page_counts_without_a_limit(owner_client, small_cap):
    _many(25)
    for url in LIST_PAGES:  # full pages of 20: no free count from a last page
        url += ("&" if "?" in url else "?") + "page_size=20"
        with statements() as seen:
            assert owner_client.get(url).status_code == 200, url
        counts = [s for s in seen if re.search(r"count\(", s, re.I)]
        assert all(re.search(r"\bLIMIT\b", s) for s in counts), (url, counts)


def test_the_whole_table_is_estimated_past_the_cap(owner_client, small_cap):
    _many(25)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE customer"))
        db.session.commit()
    page = owner_client.get("/admin/customer/?page_size=20").get_data(as_text=True)
    assert _tab(page) == "about 25"
    assert "Export all customers" in page
    assert "page=1" in page  # page 2 in the pager


def test_a_search_past_the_cap_shows_a_lower_bound_and_a_next_page(owner_client, small_cap):
    _many(25)
    page = owner_client.get("/admin/customer/?search=customer&page_size=20").get_data(True)
    shown = _tab(page)  # PostgreSQL may know the number from its statistics: "about 25"
    assert re.fullmatch(r"\d+\+|about 25", shown), shown
    export = f"Export {shown}" if shown.startswith("about") else f"Export the {shown}"
    assert f"{export} matching customers" in page
    assert "page=1" in page  # a next page is offered
    last = owner_client.get("/admin/customer/?search=customer&page_size=20&page=1")
    assert _tab(last.get_data(True)) == "25"  # the last page knows the exact number


def test_small_results_are_counted_exactly(owner_client):
    for name in ("John Smith", "Ann Smithers", "Bob Jones"):
        factories.customer(name=name)
    db.session.commit()
    assert _tab(owner_client.get("/admin/customer/?search=smi").get_data(True)) == "2"
    assert _tab(owner_client.get("/admin/customer/").get_data(True)) == "3"
    assert _tab(owner_client.get("/admin/customer/?search=nobody").get_data(True)) is None


def test_deep_pages_show_the_same_rows(owner_client, monkeypatch):
    """Pages past DEFERRED_JOIN_OFFSET take their ids first: same rows, same order."""
    from admin_app.views import paging
    for i, value in enumerate([5, 9, 5, 7, 5, 1, 9, 3] * 3):
        factories.customer(name=f"C{i:02d}", lifetime_value_cents=value)
    db.session.commit()
    url = "/admin/customer/?sort=2&desc=1&page_size=20&page=1"
    direct = owner_client.get(url).get_data(as_text=True)
    monkeypatch.setattr(paging, "DEFERRED_JOIN_OFFSET", 1)
    deferred = owner_client.get(url).get_data(as_text=True)
    names = re.findall(r'<td class="col-name">\s*(.*?)\s*</td>', deferred)
    assert names == re.findall(r'<td class="col-name">\s*(.*?)\s*</td>', direct)
    assert names == ["C07", "C21", "C13", "C05"]


def _plan(sql):
    if db.engine.dialect.name == "sqlite":
        return " ".join(r[-1] for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: show the choice
    plan = " ".join(r[0] for r in db.session.execute(text("EXPLAIN " + sql)))
    db.session.rollback()
    return plan


@pytest.mark.parametrize("page", [0, 499])
def test_lifetime_value_pages_are_read_from_the_index(app, page):
    """ORDER BY lifetime_value_cents DESC, id DESC LIMIT 50 OFFSET n walks ix_customer_ltv."""
    view = next(v for v in app.extensions["admin"][0]._views if isinstance(v, CustomerView))
    with app.test_request_context():
        _, query = view.get_list(page, "lifetime_value_cents", True, None, None,
                                 execute=False, page_size=50)
        sql = str(query.statement.compile(dialect=db.engine.dialect,
                                          compile_kwargs={"literal_binds": True}))
        plan = _plan(sql)
    assert "ix_customer_ltv" in plan, plan
    if db.engine.dialect.name == "sqlite" and not page:
        assert "TEMP B-TREE" not in plan, plan  # the index gives the order, no sort


def test_date_range_filters_take_whole_utc_days(owner_client):
    customer = factories.customer(name="Dated Buyer")
    factories.payment(customer, 1000, created_at=datetime(2026, 1, 2, 23, 59, 59, tzinfo=UTC))
    factories.subscription(customer, factories.plan())  # starts 2026-01-01 12:00 UTC
    db.session.commit()

    def shows(url):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        return "Dated Buyer" in response.get_data(as_text=True)

    assert shows("/admin/transaction/?flt0_2=2026-01-02+to+2026-01-02")
    assert not shows("/admin/transaction/?flt0_2=2026-01-01+to+2026-01-01")
    assert not shows("/admin/transaction/?flt0_2=2026-01-03+to+2026-01-31")
    assert shows("/admin/subscription/?flt0_2=2025-12-01+to+2026-01-01")
    assert not shows("/admin/subscription/?flt0_2=2025-12-01+to+2025-12-31")


def _bulk_customers(names):
    from sqlalchemy import insert

    from models import Customer
    db.session.execute(insert(Customer), [
        {"name": name, "email": f"{name.replace(' ', '.').lower()}@example.com",
         "lifetime_value_cents": 0,
         "created_at": factories.BASE_TIME} for name in names])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE customer"))
        db.session.commit()


def test_counts_are_exact_up_to_ten_thousand(owner_client):
    """68 matches read "68" (not "50+"), 1,170 customers "1,170" (not "about 1,170")."""
    _bulk_customers([f"Ann Smith {i}" if i < 68 else f"Bob Jones {i}" for i in range(300)])
    page = owner_client.get("/admin/customer/?search=smith").get_data(as_text=True)
    assert _tab(page) == "68"  # SQLite walks the sort index for this page, counts from FTS
    assert "Export the 68 matching customers" in page
    _bulk_customers([f"Bob Jones {i}" for i in range(300, 1170)])
    page = owner_client.get("/admin/customer/").get_data(as_text=True)
    assert _tab(page) == "1,170"
    page = owner_client.get("/admin/customer/?search=jones&sort=0").get_data(as_text=True)
    assert _tab(page) == "1,102"
