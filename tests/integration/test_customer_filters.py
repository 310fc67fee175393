"""Issue 21 item 9: the customers list's filters (subscription status, country, lifetime value
range, customer since) and its optional columns (subscription status, next renewal)."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from admin_app.lists import CUSTOMERS
from admin_app.views.customers import CustomerView
from models import db
from tests import factories
from tests.conftest import csrf_token
from tests.sql_spy import statements

LIST = "/admin/customer/"
FAR = datetime.now(timezone.utc) + timedelta(days=400)


def _arg(label, operation=None):
    index = next(i for i, f in enumerate(CUSTOMERS.filters)
                 if f.name == label and (operation is None or f.operation() == operation))
    return f"flt{index}_{index}"


def _names(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.get_data(as_text=True)
    return sorted(re.findall(r'<td class="col-name">\s*(.*?)\s*</td>', page)), page


@pytest.fixture
def people(app):
    plan = factories.plan()
    ada = factories.customer(name="Ada", country="FR", lifetime_value_cents=150_00,
                             created_at=datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    factories.subscription(ada, plan, current_period_end=FAR, next_payment_date=FAR)
    bob = factories.customer(name="Bob", country="DE", lifetime_value_cents=1_250_00,
                             created_at=datetime(2026, 6, 1, 12, tzinfo=timezone.utc))
    factories.subscription(bob, plan, status="past_due", current_period_end=FAR - timedelta(
        days=380))
    factories.subscription(bob, plan, status="canceled")
    factories.customer(name="Cy", country="FR", lifetime_value_cents=0,
                       created_at=datetime(2026, 9, 1, 12, tzinfo=timezone.utc))
    db.session.commit()


def test_subscription_status_uses_the_subscriptions_lists_values(owner_client, people):
    assert _names(owner_client, f"{LIST}?{_arg('Subscription status')}=active")[0] == ["Ada"]
    assert _names(owner_client, f"{LIST}?{_arg('Subscription status')}=past_due")[0] == ["Bob"]
    _, page = _names(owner_client, LIST)
    from models.sub_state import STATES
    for label in STATES.values():  # one label per state, the Subscriptions filter's words
        assert label.replace("—", "\\u2014").replace("…", "\\u2026") in page, label


def test_country_by_its_name(owner_client, people):
    assert _names(owner_client, f"{LIST}?{_arg('Country')}=FR")[0] == ["Ada", "Cy"]
    _, page = _names(owner_client, LIST)
    assert '["DE", "Germany"]' in page
    names, page = _names(owner_client, f"{LIST}?{_arg('Country')}=XX")
    assert names == ["Ada", "Bob", "Cy"] and "Invalid Filter Value" in page


def test_lifetime_value_range_in_the_store_currency(owner_client, people):
    at_least, at_most = _arg("Lifetime value", "at least"), _arg("Lifetime value", "at most")
    assert _names(owner_client, f"{LIST}?{at_least}=150.00")[0] == ["Ada", "Bob"]
    assert _names(owner_client, f"{LIST}?{at_least}=100&{at_most}=1,249.99")[0] == ["Ada"]
    assert _names(owner_client, f"{LIST}?{at_most}=0")[0] == ["Cy"]


@pytest.mark.parametrize("value", ["12x", "1e3", "1.234", "nan", "١٢", "99999999999999999"])
def test_a_lifetime_value_that_is_no_amount_is_refused_with_a_message(owner_client, people,
                                                                     value):
    names, page = _names(owner_client, f"{LIST}?{_arg('Lifetime value', 'at least')}={value}")
    assert names == ["Ada", "Bob", "Cy"]  # the filter was not applied
    assert "Lifetime value at least: " in page
    assert "Type an amount in USD, like 1,250.00. The filter was not applied." in page


def test_customer_since_takes_whole_store_days(owner_client, people):
    since = _arg("Customer since")
    assert _names(owner_client, f"{LIST}?{since}=2026-03-01+to+2026-06-01")[0] == ["Ada", "Bob"]
    assert _names(owner_client, f"{LIST}?{since}=2026-03-02+to+2026-05-31")[0] == []


def test_filters_combine_with_search_and_each_other(owner_client, people):
    url = f"{LIST}?search=a&{_arg('Country')}=FR&{_arg('Subscription status')}=active"
    assert _names(owner_client, url)[0] == ["Ada"]


def _header(page):
    return page.split("<thead", 1)[1].split("</thead>", 1)[0]


def _columns(client, *names):
    token = csrf_token(client, LIST)
    return client.post(f"{LIST}columns?url={LIST}", data={"csrf_token": token,
                                                          "column": list(names)})


def test_optional_columns_are_off_by_default_and_cost_nothing_then(owner_client, people):
    with statements() as seen:
        _, page = _names(owner_client, LIST)
    assert "Subscription status" not in _header(page)
    assert not any("FROM subscription" in s for s in seen), seen


def test_optional_columns_switched_on_per_admin(owner_client, people, app):
    response = _columns(owner_client, "subscription_status", "next_renewal")
    assert response.status_code == 302 and response.headers["Location"].endswith(LIST)
    with statements() as seen:
        response = owner_client.get(LIST)
    page = response.get_data(as_text=True)
    header = _header(page)
    assert "Subscription status" in header and "Next renewal" in header
    cells = dict(re.findall(r'<td class="col-name">\s*(.*?)\s*</td>.*?'
                            r'<td class="col-subscription_status">\s*(.*?)\s*</td>', page, re.S))
    assert cells["Ada"] == "Active"
    assert cells["Bob"].startswith("Past due since") and cells["Bob"].endswith("(+1 more)")
    assert cells["Cy"] == "—"
    assert sum("FROM subscription" in s for s in seen) == 1  # one query for the page
    # another admin's list is unchanged
    from tests.conftest import login
    other = app.test_client()
    login(other, "viewer")
    assert "Next renewal" not in _header(other.get(LIST).get_data(as_text=True))
    # and off again
    _columns(owner_client)
    assert "Next renewal" not in _header(owner_client.get(LIST).get_data(as_text=True))


def test_columns_form_without_csrf_changes_nothing(owner_client, people):
    owner_client.post(f"{LIST}columns", data={"column": ["next_renewal"]})
    assert "Next renewal" not in _header(owner_client.get(LIST).get_data(as_text=True))


FILTERS = [("Subscription status", None, "past_due"), ("Country", None, "FR"),
           ("Lifetime value", "at least", "100.00"), ("Lifetime value", "at most", "100.00"),
           ("Customer since", None, "2026-03-01 to 2026-06-01")]


@pytest.mark.parametrize("label, operation, value", FILTERS)
@pytest.mark.parametrize("sort", [None, "lifetime_value_cents"])
def test_each_filter_is_answered_from_an_index_on_postgresql(app, people, label, operation,
                                                             value, sort):
    """PostgreSQL's plan of the list page with the filter has no full scan of a table: with
    plain scans off (tiny tables), an index serves the filter and the order."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN of PostgreSQL's planner")
    view = next(v for v in app.extensions["admin"][0]._views if isinstance(v, CustomerView))
    index = next(i for i, f in enumerate(CUSTOMERS.filters)
                 if f.name == label and (operation is None or f.operation() == operation))
    with app.test_request_context(LIST):
        flt = view._filters[index]
        assert flt.validate(value)
        _, query = view.get_list(0, sort, True, None, [(index, label, value)], execute=False,
                                 page_size=50)
        compiled = query.statement.compile(dialect=db.engine.dialect,
                                           compile_kwargs={"render_postcompile": True})
        conn = db.session.connection()
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled),
                                                             compiled.params))
        db.session.rollback()
    assert "Seq Scan" not in plan, plan
    # the filter's own index, or the walk down the order's index (ix_customer_created newest
    # first, ix_customer_ltv sorted by lifetime value) filtering as it goes; the
    # subscription status is looked up by customer or by status (Home's index leads with it)
    served_by = {"Subscription status": ["ix_subscription_customer",
                                         "ix_subscription_status_next"],
                 "Country": ["ix_customer_country", "ix_customer_ltv"],
                 "Lifetime value": ["ix_customer_ltv", "ix_customer_created"],
                 "Customer since": ["ix_customer_created", "ix_customer_ltv"]}[label]
    assert any(name in plan for name in served_by), plan


def test_a_large_filtered_export_job_writes_only_the_filtered_customers(app, client, people):
    """Above the threshold the export is a job: it applies the list's filters too."""
    from sqlalchemy import select

    from models import AuditEvent
    from tests.conftest import login
    from tests.integration.test_export_job import _export_through_job
    login(client, "finance")
    for i in range(4):
        factories.customer(name=f"Parisian {i}", country="FR")
        factories.customer(name=f"Berliner {i}", country="DE")
    db.session.commit()
    direct, job, link = _export_through_job(app, client, f"?{_arg('Country')}=FR")
    written = client.get(link).get_data(as_text=True)
    assert job.total == 6 and written.encode() == direct
    assert "Parisian 3" in written and "Berliner" not in written and "Bob" not in written
    audited = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "customers.export").order_by(AuditEvent.id)).all()
    assert [e.after["filters"] for e in audited] == [[["Country", "is", "FR"]]] * 2
