"""Issue 21 item 12: the audit log reads as a diff, sign-ins have their own tab, targets link
to their record, and it filters by target, actor and date."""
import re
from html import unescape
from datetime import datetime, timezone

import pytest

from actions import audit
from models import db
from tests import factories
from tests.conftest import login, make_admin

PAGE = "/admin/audit/"
SIGN_INS = "/admin/audit/sign-ins/"


def _entry(action, target, when, actor=None, **kw):
    event = audit.record(actor, action, target, outcome=kw.pop("outcome", "succeeded"), **kw)
    event.created_at = when
    return event


def _rows(client, url):
    """Each list row's text, squeezed."""
    page = client.get(url)
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    table = html.split('class="table table-striped', 1)[1].split("</table>", 1)[0]
    body = table.split("</thead>", 1)[1]
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", re.sub(r"</(td|li)>", " ", row))).split())
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)], html


@pytest.fixture
def entries(app):
    finance = make_admin("finance", "fin@example.com")
    support = make_admin("support", "sup@example.com")
    customer = factories.customer(name="Ada", email="ada@example.com")
    tx = factories.payment(customer, 14900, currency="EUR")
    db.session.flush()
    _entry("refund", tx, datetime(2026, 11, 30, 10, tzinfo=timezone.utc), finance,
           before={"refunded_cents": 0}, after={"refund_id": 7, "refunded_cents": 5000})
    _entry("customer.edit", customer, datetime(2026, 12, 1, 10, tzinfo=timezone.utc), support,
           before={"vat_number": None, "city": "Paris"},
           after={"vat_number": "FR40303265045", "city": "Lyon"})
    _entry("login", ("admin_user", support.id), datetime(2026, 12, 1, 9, tzinfo=timezone.utc),
           support, message="from 127.0.0.1")
    _entry("login", ("admin_user", None), datetime(2026, 12, 2, 9, tzinfo=timezone.utc),
           outcome="failed", message="failed login for 'x@example.com' from 127.0.0.1")
    _entry("job.start", ("job", 42), datetime(2026, 12, 2, 11, tzinfo=timezone.utc), finance)
    db.session.commit()
    return {"customer": customer, "tx": tx}


def test_before_and_after_read_as_a_diff_with_money_in_the_payments_currency(client, entries):
    login(client, "owner")
    rows, html = _rows(client, PAGE)
    refund = next(r for r in rows if "refund" in r)
    assert "Refunded: €0.00 → €50.00" in refund and "Refund id: 7" in refund
    edit = next(r for r in rows if "customer.edit" in r)
    assert "VAT number: — → FR40303265045" in edit and "City: Paris → Lyon" in edit
    assert not any('{"' in r or "{'" in r for r in rows)  # no raw JSON left


def test_sign_ins_have_their_own_tab(client, entries):
    login(client, "owner")  # this login is audited too, and lands on the Sign-ins tab
    rows, html = _rows(client, PAGE)
    assert len(rows) == 3 and not any("login" in r for r in rows)
    assert 'href="/admin/audit/sign-ins/"' in html
    sign_ins, _ = _rows(client, SIGN_INS)
    assert len(sign_ins) == 3 and all("login" in r for r in sign_ins)
    assert any("failed login for 'x@example.com'" in r for r in sign_ins)


def test_targets_link_to_their_record(client, entries):
    login(client, "owner")
    _, html = _rows(client, PAGE)
    customer, tx = entries["customer"], entries["tx"]
    links = dict((text.strip(), href) for href, text in re.findall(
        r'<a href="([^"]+)" class="md-audit-target">([^<]+)</a>', html))
    assert links[f"Customer #{customer.id}"] == f"/admin/customer/?profile={customer.id}"
    assert links["Job #42"] == "/admin/jobs/job/42/"
    payment_url = links[f"Payment #{tx.id}"].replace("&amp;", "&")
    payments, _ = _rows(client, payment_url)
    assert len(payments) == 1 and "ada@example.com" in payments[0]


def _filter_url(client, *pairs):
    """The list URL filtering by (filter label, value) pairs, as Flask-Admin names them."""
    from flask import current_app
    view = next(v for v in current_app.extensions["admin"][0]._views if v.endpoint == "audit")
    args = []
    for n, (label, value) in enumerate(zip(pairs[::2], pairs[1::2])):
        position = next(i for i, f in enumerate(view._filters) if f.name == label)
        args.append(f"flt{n}_{position}={value}")
    return f"{PAGE}?{'&'.join(args)}"


def test_filters_by_target_actor_and_date(client, entries):
    login(client, "owner")
    customer = entries["customer"]
    by_type, _ = _rows(client, _filter_url(client, "Target", "customer"))
    assert [r for r in by_type if "customer.edit" in r] == by_type and len(by_type) == 1
    by_id, _ = _rows(client, _filter_url(client, "Target id", customer.id))
    assert any("customer.edit" in r for r in by_id)  # and any other table's row of that id
    assert all(f"#{customer.id} " in r for r in by_id)
    by_both, _ = _rows(client, _filter_url(client, "Target", "customer", "Target id",
                                           customer.id))
    assert len(by_both) == 1 and "customer.edit" in by_both[0]
    by_actor, _ = _rows(client, _filter_url(client, "Actor", "fin@example.com"))
    assert len(by_actor) == 2 and all("fin@example.com" in r for r in by_actor)
    # whole store-local days (the test store's time zone), both ends included
    by_day, _ = _rows(client, _filter_url(client, "Date", "2026-12-01 to 2026-12-01"))
    assert len(by_day) == 1 and "customer.edit" in by_day[0]


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1"])
def test_a_target_id_that_is_no_id_is_refused_with_a_message(client, entries, value):
    login(client, "owner")
    response = client.get(_filter_url(client, "Target id", value))
    assert response.status_code == 200
    assert "Invalid Filter Value" in response.get_data(as_text=True)
