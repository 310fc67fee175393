"""Customer search on the trigram indexes: same rows as a plain substring test, on both ways."""
import html
import re

import pytest
from sqlalchemy import text

from models.queries import customer_search
from admin_app.views.customers import CustomerView
from models import Customer, db
from tests import factories

PEOPLE = [
    ("John Smith", "john@acme.com"), ("Ann Smithers", "ann@other.org"),
    ("Bob Jones", "BOB@ACME.COM"), ("50% Off Ltd", "deals@fifty.example"),
    ("500 Club", "club@five.example"), ("Snake_Case Co", "snake_case@under.example"),
    ("SnakeXCase", "snakexcase@x.example"), ('Dwayne "Rock" Johnson', "rock@quote.example"),
    ("Miles O'Brien", "obrien@quote.example"), ("Sandy AND Andy", "and@ops.example"),
    ("Star*Lord", "star@guardians.example"), ("Near(Far) Inc", "near@ops.example"),
    ("Álvaro Gómez", "alvaro@ejemplo.es"), ("Back\\Slash", "bs@ops.example"),
    ("Jo Lee", "jo@lee.example"), ("Quest?ion [Mark]", "q@marks.example"),
]
SEARCHES = [
    "smi", "SMI", "@acme.com", "nobody", "50%", "%", "_", "snake_case", "e_c", '"', '"rock"',
    '"Rock" Johnson', "o'brien", "AND", "and andy", "*", "star*", "NEAR(", "near(far)",
    "NEAR(a b)", "álvaro", "ÁLVARO", "gÓmez", "\\", "back\\slash", "jo", "j", "o", "Jo L",
    "smith acme", "ex ple", "  smi  ", "?", "[mark]", "st?on", "-smi", "smi OR bob", "^", "{a",
    "john@acme.com", "BOB@acme", "rock@quote", "a@b", "o@", "snake_case@under", "ann@acme.com",
]
# Both ways of the SQLite search: always the FTS lookup, always the walk on the sort index.
WAYS = {"lookup": 10 ** 9, "walk": 1}


def expected(search):
    """The old semantics: every term occurs in the name or the email, ignoring case."""
    terms = [t.lower() for t in search.split(" ") if t]
    return sorted(name for name, email in PEOPLE
                  if all(t in name.lower() or t in email.lower() for t in terms))


def listed(client, search, **args):
    page = client.get("/admin/customer/", query_string={"search": search, **args})
    assert page.status_code == 200, search
    body = page.get_data(as_text=True)
    return sorted(html.unescape(n) for n in
                  re.findall(r'<td class="col-name">\s*(.*?)\s*</td>', body, re.S))


@pytest.fixture
def people():
    for name, email in PEOPLE:
        factories.customer(name=name, email=email)
    db.session.commit()


@pytest.fixture(params=sorted(WAYS))
def way(request, monkeypatch):
    threshold = WAYS[request.param]
    monkeypatch.setattr(customer_search, "walk_threshold", lambda *args: threshold)
    return request.param


def test_search_returns_the_same_rows_as_a_substring_test(owner_client, people, way):
    for search in SEARCHES:
        assert listed(owner_client, search) == expected(search), search
        assert listed(owner_client, search, sort=0) == expected(search), search  # by name


def test_export_uses_the_same_search(app, people, way):
    view = next(v for v in app.extensions["admin"][0]._views if isinstance(v, CustomerView))
    for search in ("smi", "@acme.com", "50%", '"rock"', "jo", "álvaro"):
        rows = view.export_query(search=search).all()
        assert sorted(c.name for c in rows) == expected(search), search


def _fts_integrity():
    """SQLite: the FTS index agrees with the customer table."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO customer_search(customer_search, rank) "
                                "VALUES ('integrity-check', 1)"))


def test_renamed_and_deleted_customers_follow_in_search(owner_client, way):
    kept = factories.customer(name="Grace Hopper", email="grace@navy.example")
    gone = factories.customer(name="Alan Turing", email="alan@bletchley.example")
    db.session.commit()
    assert listed(owner_client, "hopper") == ["Grace Hopper"]
    kept.name, kept.email = "Grace Brewster", "brewster@yale.example"
    kept.lifetime_value_cents = 12345  # not indexed: the update trigger ignores it
    db.session.delete(gone)
    db.session.commit()
    _fts_integrity()
    assert listed(owner_client, "hopper") == []
    assert listed(owner_client, "grace@navy") == []
    assert listed(owner_client, "brewster") == ["Grace Brewster"]
    assert listed(owner_client, "@yale.example") == ["Grace Brewster"]
    assert listed(owner_client, "turing") == []
    assert listed(owner_client, "bletchley") == []


def test_seeded_customers_are_searchable(app, owner_client):
    from admin_app.seed import seed
    seed(30, 1, progress=False)
    _fts_integrity()
    name, email = db.session.execute(
        db.select(Customer.name, Customer.email).order_by(Customer.id.desc())).first()
    assert name in listed(owner_client, email)
    last = name.split(" ")[-1]
    assert name in listed(owner_client, "".join(c.upper() if c.isascii() else c for c in last))


def test_search_uses_the_index(app, people):
    """The SQL of a search names the FTS table (SQLite) or reads the trigram index (PostgreSQL)."""
    view = next(v for v in app.extensions["admin"][0]._views if isinstance(v, CustomerView))
    with app.test_request_context("/admin/customer/?search=smithers"):
        _, query = view.get_list(0, None, False, "smithers", None, execute=False)
        sql = str(query.statement.compile(dialect=db.engine.dialect,
                                          compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(r[-1] for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "customer_search VIRTUAL TABLE" in plan
        else:
            # A few rows: left to itself PostgreSQL rightly reads them all. Without plain
            # scans, the trigram indexes are its only way to the matches, if they apply.
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            db.session.execute(text("SET LOCAL enable_indexscan = off"))
            plan = " ".join(r[0] for r in db.session.execute(text("EXPLAIN " + sql)))
            db.session.rollback()
            assert "ix_customer_name_trgm" in plan and "ix_customer_email_trgm" in plan
