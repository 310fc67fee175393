"""Every customers export writes one audit entry when its stream ends: who, scope, rows."""
import csv
import io

import pytest
from sqlalchemy import select

from actions.export import BATCH_SIZE, customers_query, export_customers, export_scope
from actions.errors import NotAllowed
from admin_app.views.customers import CustomerView
from models import AuditEvent, Customer, db
from tests import factories
from tests.conftest import csrf_token, login, make_admin
from tests.integration.test_export import _seed_customers

LIST = "/admin/customer/"
EXPORT = "/admin/customer/export/csv/"


def _entries():
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "customers.export").order_by(AuditEvent.id)).all()


def _data_rows(response):
    assert response.status_code == 200
    return len(list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))) - 1


def _three_customers():
    for name, country in (("Alice Archer", "DE"), ("Bob Baker", "US"), ("Alicia Keys", "DE")):
        factories.customer(name=name, country=country)
    db.session.commit()


def test_finished_download_of_everything_leaves_one_entry(client):
    user = login(client, "finance")
    _three_customers()
    assert _entries() == []
    assert _data_rows(client.get(EXPORT)) == 3
    [entry] = _entries()
    assert (entry.actor_id, entry.actor_email, entry.outcome) == (user.id, user.email,
                                                                  "succeeded")
    assert entry.after == {"scope": "all", "rows": 3}
    assert entry.message == "Exported 3 customer(s): all customers."


def test_search_export_records_the_search_text_and_its_count(client):
    login(client, "owner")
    _three_customers()
    assert _data_rows(client.get(EXPORT + "?search=ali")) == 2
    [entry] = _entries()
    assert entry.after == {"scope": "search", "search": "ali", "rows": 2}


def test_filtered_export_records_the_filters(app, client):
    class FilteredCustomerView(CustomerView):
        column_filters = ["country"]

    view = FilteredCustomerView(Customer, db, name="Filtered", endpoint="customer_filtered",
                                url="/admin/customer-filtered")
    app.extensions["admin"][0].add_view(view)
    key = next(k for k, (_, flt) in view._filter_args.items() if flt.operation() == "equals")
    login(client)
    _three_customers()
    assert _data_rows(client.get(f"/admin/customer-filtered/export/csv/?flt0_{key}=DE")) == 2
    [entry] = _entries()
    assert entry.after == {"scope": "filters", "filters": [["Country", "equals", "DE"]],
                           "rows": 2}


def test_export_selected_records_the_ticked_ids(client):
    login(client, "finance")
    first, _, third = (factories.customer(name=n) for n in ("A", "B", "C"))
    db.session.commit()
    response = client.post("/admin/customer/action/", data={
        "action": "export_selected", "csrf_token": csrf_token(client, LIST), "url": LIST,
        "rowid": [str(third.id), str(first.id), "abc"]})
    assert _data_rows(response) == 2
    [entry] = _entries()
    assert entry.after == {"scope": "ids", "ids": sorted([first.id, third.id]), "rows": 2}


def test_cli_export_is_audited_with_the_shell_user(app, tmp_path):
    _three_customers()
    result = app.test_cli_runner().invoke(args=["export-customers", str(tmp_path / "out.csv"),
                                                "--search", "ali"])
    assert result.exit_code == 0, result.output
    [entry] = _entries()
    assert entry.actor_id is None and entry.actor_email.endswith("@command-line")
    assert entry.after == {"scope": "search", "search": "ali", "rows": 2}
    result = app.test_cli_runner().invoke(args=["export-customers", "-"])
    assert result.exit_code == 0 and result.stdout_bytes.count(b"\r\n") == 4
    assert [e.after for e in _entries()][1] == {"scope": "all", "rows": 3}


def test_a_download_that_stops_early_is_audited_as_failed(client):
    login(client, "owner")
    _seed_customers(BATCH_SIZE + 500)
    response = client.get(EXPORT, buffered=False)
    chunks = response.iter_encoded()
    next(chunks), next(chunks)  # the header and the first batch
    assert _entries() == []  # nothing is known until the stream ends
    response.close()
    [entry] = _entries()
    assert entry.outcome == "failed" and entry.after == {"scope": "all", "rows": BATCH_SIZE}
    assert entry.message == f"Export of all customers stopped after {BATCH_SIZE} customer(s)."


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_the_action_refuses_roles_without_export_and_audits_nothing(app, role):
    """The export function holds the rule itself, whoever calls it (not only the view)."""
    user = make_admin(role)
    factories.customer(name="Secret")
    db.session.commit()
    with pytest.raises(NotAllowed):
        export_customers(customers_query(), export_scope(), user, "USD")
    assert _entries() == []
