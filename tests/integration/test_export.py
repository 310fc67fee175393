"""The customers CSV export: button, endpoint, bulk action, CLI, permissions and streaming."""
import csv
import gc
import io
import tracemalloc
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from actions.export import BATCH_SIZE, HEADER, export_statement
from admin_app.views.customers import CustomerView
from models import Customer, db
from tests import factories
from tests.conftest import csrf_token, login

LIST = "/admin/customer/"
EXPORT = "/admin/customer/export/csv/"


def _rows(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


def _names(response):
    return [row[0] for row in _rows(response)[1:]]


def _export_bar(page):
    start = page.index('<div class="md-export-bar')
    return page[start:page.index("</div>", start)]


def test_header_and_every_field_round_trip(client):
    login(client, "owner")
    details = dict(name='Zoë "Z" Ångström, PhD', email="zoe@example.com",
                   company='Line one; "line two"', company_id="ID,1",
                   company_email="billing@zoe.example", tax_id='""', phone="(555) 0100",
                   address="Straße 1 😀", city="São Paulo", state="SP", postal_code="01001-000",
                   country="BR", vat_number="BR123")
    factories.customer(**details, lifetime_value_cents=123450)
    db.session.commit()
    rows = _rows(client.get(EXPORT))
    assert rows[0] == HEADER
    assert rows[0] == ["Name", "Email", "Company", "Company ID", "Company Email", "Tax ID",
                       "Phone", "Address", "City", "State", "Zip/Postal Code", "Country",
                       "VAT Number", "Lifetime Value"]
    assert rows[1] == [*list(details.values())[:11], "Brazil", "BR123", "1234.50"]
    assert len(rows) == 2


def test_formula_cells_are_neutralised_and_negative_ltv_stays_a_number(client):
    login(client, "finance")
    factories.customer(name='=HYPERLINK("http://evil.example","Click")', phone="+1 555 0100",
                       company="@SUM(A1)", city="-2+3", state="\tTab", lifetime_value_cents=-300)
    # issue 20: a tab is no customer text (models/text.py): stored as "Tab"
    db.session.commit()
    row = _rows(client.get(EXPORT))[1]
    assert row[0] == '\'=HYPERLINK("http://evil.example","Click")'
    # issue 12: a plain phone number is exported as the database has it
    assert (row[2], row[6], row[8], row[9]) == ("'@SUM(A1)", "+1 555 0100", "'-2+3", "Tab")
    assert row[13] == "-3.00"


def test_order_is_the_lists_with_an_id_tie_breaker(client):
    login(client)
    same_time = factories.BASE_TIME
    ids = [factories.customer(name=f"Same {i}", created_at=same_time).id for i in range(3)]
    factories.customer(name="Newest")
    db.session.commit()
    assert _names(client.get(EXPORT)) == ["Newest", "Same 2", "Same 1", "Same 0"]
    assert ids == sorted(ids)
    assert _names(client.get(EXPORT + "?sort=0")) == ["Newest", "Same 0", "Same 1", "Same 2"]
    assert _names(client.get(EXPORT + "?sort=0&desc=1")) == [
        "Same 2", "Same 1", "Same 0", "Newest"]


def test_search_scopes_the_export_and_the_button_says_so(client):
    login(client)
    for name in ("Alice Archer", "Bob Baker", "Alicia Keys"):
        factories.customer(name=name)
    db.session.commit()
    assert sorted(_names(client.get(EXPORT + "?search=ali"))) == ["Alice Archer", "Alicia Keys"]
    assert len(_names(client.get(EXPORT))) == 3
    bar = _export_bar(client.get(LIST + "?search=ali&page=0").get_data(as_text=True))
    assert "Export the 2 matching customers" in bar
    assert 'href="/admin/customer/export/csv/?search=ali"' in bar
    assert 'href="/admin/customer/export/csv/?search=ali&amp;bom=1"' in bar
    page = client.get(LIST).get_data(as_text=True)
    assert "Export all customers" in _export_bar(page)
    assert page.count("/export/csv/") == 2  # the two links below the pager, no top tab


def test_filters_scope_the_export(app, client):
    class FilteredCustomerView(CustomerView):
        column_filters = ["country"]

    view = FilteredCustomerView(Customer, db, name="Filtered", endpoint="customer_filtered",
                                url="/admin/customer-filtered")
    app.extensions["admin"][0].add_view(view)
    key = next(k for k, (_, flt) in view._filter_args.items() if flt.operation() == "equals")
    login(client)
    factories.customer(name="Hans", country="DE")
    factories.customer(name="Jane", country="US")
    factories.customer(name="Greta", country="DE")
    db.session.commit()
    url = f"/admin/customer-filtered/export/csv/?flt0_{key}=DE"
    assert _names(client.get(url)) == ["Greta", "Hans"]
    bar = _export_bar(client.get(f"/admin/customer-filtered/?flt0_{key}=DE").get_data(True))
    assert "Export the 2 matching customers" in bar


def test_export_selected_exports_only_the_ticked_rows(client):
    login(client, "finance")
    a, _, c = (factories.customer(name=n) for n in ("A", "B", "C"))
    db.session.commit()
    token = csrf_token(client, LIST)
    response = client.post("/admin/customer/action/", data={
        "action": "export_selected", "csrf_token": token, "url": LIST,
        "rowid": [str(a.id), str(c.id), "abc", "1 OR 1=1", "-1", ""]})
    assert _names(response) == ["C", "A"]
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_roles_without_export_get_no_button_and_403(client, role):
    login(client, role)
    factories.customer(name="Secret")
    db.session.commit()
    page = client.get(LIST).get_data(as_text=True)
    assert "/export/csv/" not in page and "md-export-bar mb-3" not in page
    assert "export_selected" not in page
    assert client.get(EXPORT).status_code == 403
    response = client.post("/admin/customer/action/", data={
        "action": "export_selected", "csrf_token": csrf_token(client, LIST), "rowid": ["1"]})
    assert response.status_code == 302 and b"Secret" not in response.data


def test_export_needs_a_login(client):
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_export_type_is_404(client):
    login(client)
    assert client.get("/admin/customer/export/xlsx/").status_code == 404


def test_bom_option_and_file_name(client):
    login(client, "finance")
    factories.customer(name="Émile")
    db.session.commit()
    plain = client.get(EXPORT)
    assert plain.data.startswith(b"Name,Email,")  # read each stream before the next request
    assert client.get(EXPORT + "?bom=1").data == b"\xef\xbb\xbf" + plain.data
    assert "Émile".encode() in plain.data
    assert plain.content_type == "text/csv; charset=utf-8"
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert plain.headers["Content-Disposition"] == f'attachment; filename="customers-{today}.csv"'
    assert plain.headers["Cache-Control"] == "private, no-store"


def test_cli_writes_the_same_bytes_as_the_endpoint(app, client, tmp_path):
    login(client)
    for i, name in enumerate(["Ann, \"A\"", "=cmd|' /C calc'!A0", "Łukasz\nNowak", "Bea"]):
        factories.customer(name=name, country="PL", lifetime_value_cents=i * 1000 - 1500)
    db.session.commit()
    runner = app.test_cli_runner()
    for args, query in (([], ""), (["--search", "a"], "?search=a"), (["--bom"], "?bom=1")):
        target = tmp_path / "out.csv"
        result = runner.invoke(args=["export-customers", str(target), *args])
        assert result.exit_code == 0, result.output
        assert target.read_bytes() == client.get(EXPORT + query).data
    result = runner.invoke(args=["export-customers", "-"])
    assert result.exit_code == 0 and result.stdout_bytes == client.get(EXPORT).data


def _seed_customers(n):
    """n customers through one Core executemany per 10k rows, not the ORM one by one."""
    for start in range(1, n + 1, 10_000):
        db.session.execute(insert(Customer.__table__), [
            dict(id=i, name=f"Customer {i}", email=f"c{i}@example.com", company=f"Co {i % 97}",
                 city="Berlin", country="DE", lifetime_value_cents=i * 7,
                 created_at=factories.BASE_TIME)
            for i in range(start, min(start + 10_000, n + 1))])
    db.session.commit()


def test_export_of_50k_customers_streams_in_flat_memory(client):
    login(client, "finance")
    n = 50_000
    _seed_customers(n)
    tracemalloc.start()
    try:
        response = client.get(EXPORT, buffered=False)
        chunks = response.iter_encoded()
        assert next(chunks).startswith(b"Name,Email")
        first = next(chunks)
        assert first.count(b"\r\n") == BATCH_SIZE
        loaded = [o for o in db.session.identity_map.values() if isinstance(o, Customer)]
        assert not loaded  # bare columns, no ORM objects
        lines, count = first.count(b"\r\n"), 2
        for chunk in chunks:
            lines += chunk.count(b"\r\n")
            count += 1
        response.close()
        stream_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        rows = db.session.execute(export_statement(select(Customer))).all()
        full_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lines == n == len(rows)
    assert count >= n // BATCH_SIZE
    # Loading the same rows at once (what Flask-Admin's export does, and with lighter
    # tuples than its ORM objects) needs several times the streaming peak.
    assert stream_peak * 4 < full_peak, (stream_peak, full_peak)


def test_a_client_that_goes_away_closes_the_database_result(client, monkeypatch):
    login(client, "owner")
    _seed_customers(BATCH_SIZE + 500)
    results, execute = [], Connection.execute  # the export reads on the session's connection
    monkeypatch.setattr(Connection, "execute", lambda self, *a, **k: results.append(
        execute(self, *a, **k)) or results[-1])
    response = client.get(EXPORT, buffered=False)
    chunks = response.iter_encoded()
    next(chunks), next(chunks)
    streaming = results[-1]
    assert not streaming.closed
    assert gc.get_freeze_count() > 0  # the heap left out of full collections meanwhile
    response.close()  # what the WSGI server does when the download is cancelled
    assert streaming.closed
    assert gc.get_freeze_count() == 0  # and put back
