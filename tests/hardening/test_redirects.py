"""Issue 13, Redirects: every redirect the panel follows stays a path on this site."""
import re
from urllib.parse import quote

import pytest

from models import Customer, db
from tests import factories
from tests.conftest import PASSWORD, csrf_token, login, make_admin
from tests.hardening.payloads import REDIRECT_PAYLOADS, stays_on_site
from tests.hardening.routes import admin_rules, concrete_url, sample_data

MARKER = "/admin/plan/?redirect-marker=1"


def _with(base, **params):
    sep = "&" if "?" in base else "?"
    return base + sep + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())


@pytest.fixture
def data(app):
    return sample_data()


def one_database_leg():
    """Redirect checks do not depend on the database: the sweeps run on the SQLite leg."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("database-independent sweep; runs on the SQLite leg")


def redirected_locally(response, payload):
    """A redirect to a path on this site, or (a payload with a NUL byte) refused with a 400."""
    if "\x00" in payload:
        return response.status_code == 400
    return response.status_code == 302 and stays_on_site(response.headers["Location"])


def _open(client, method, url, token, payload):
    if method == "GET":
        return client.get(_with(url, url=payload))
    return client.post(_with(url, url=payload), data={"csrf_token": token, "url": payload})


def test_redirecting_routes_never_leave_the_site(app, client, data, reliability):
    """Find every route that follows `url=` (from app.url_map), then send it every payload."""
    one_database_leg()
    login(client, "owner")
    token = csrf_token(client, "/admin/customer/")
    following = []
    for rule, method in admin_rules(app):
        if not rule.rule.startswith("/admin") or "static" in rule.endpoint:
            continue
        url, _ = concrete_url(app, rule, data)
        location = _open(client, method, url, token, MARKER).headers.get("Location", "")
        if "redirect-marker" in location:
            following.append((method, url))
    assert len(following) >= 15, following  # edit, details, create, delete, bulk actions...
    for method, url in following:
        for payload in REDIRECT_PAYLOADS:
            response = _open(client, method, url, token, payload)
            assert response.status_code < 500
            assert stays_on_site(response.headers.get("Location")), (method, url, payload)
    reliability.count("redirects", len(following) * len(REDIRECT_PAYLOADS))


def test_edit_save_returns_only_to_a_local_path(app, client, data, reliability):
    login(client, "support")
    token = csrf_token(client, "/admin/customer/")
    for payload in REDIRECT_PAYLOADS:
        _edit_and_save(client, data, token, payload)
        reliability.count("redirects", 2)


def _edit_and_save(client, data, token, payload):
    db.session.get(Customer, data["customer"]).name = "Rita Route"
    db.session.commit()
    response = client.post(_with(f"/admin/customer/edit/?id={data['customer']}", url=payload),
                           data={"csrf_token": token, "name": "Rita Saved",
                                 "email": "rita@example.com", "country": ""})
    assert redirected_locally(response, payload)
    saved = "\x00" not in payload
    assert (db.session.get(Customer, data["customer"]).name == "Rita Saved") == saved
    page = client.get(_with(f"/admin/customer/edit/?id={data['customer']}", url=payload))
    assert "evil" not in page.get_data(as_text=True).lower()


def test_row_actions_return_only_to_a_local_path(app, client, data, reliability):
    login(client, "owner")
    token = csrf_token(client, "/admin/transaction/")
    for payload in REDIRECT_PAYLOADS:
        _row_action(client, data["transaction"], token, payload)
        reliability.count("redirects", 2)


def _row_action(client, tx, token, payload):
    page = client.get(_with(f"/admin/transaction/action/check_refund/{tx}/", url=payload,
                            modal=1)).get_data(as_text=True)
    hrefs = re.findall(r'(?:href|action)="([^"]*)"', page)
    assert "evil" not in page.lower() and all("javascript" not in h.lower() for h in hrefs)
    posted = client.post(_with(f"/admin/transaction/action/check_refund/{tx}/", url=payload),
                         data={"csrf_token": token})
    assert redirected_locally(posted, payload)


def test_refused_row_action_and_bulk_action_return_locally(app, client, data, reliability):
    login(client, "viewer")
    token = csrf_token(client, "/admin/transaction/")
    for payload in REDIRECT_PAYLOADS:
        _refused(client, data, token, payload)
        reliability.count("redirects", 2)


def _refused(client, data, token, payload):
    refused = client.post(_with(f"/admin/transaction/action/refund/{data['transaction']}/",
                                url=payload), data={"csrf_token": token, "amount": "1.00"})
    assert redirected_locally(refused, payload)
    bulk = client.post("/admin/customer/action/", data={
        "csrf_token": token, "action": "nosuch", "rowid": str(data["customer"]), "url": payload})
    assert redirected_locally(bulk, payload)


def test_login_next_and_export_stay_local(app, client, reliability):
    one_database_leg()
    make_admin("finance", "f@example.com")
    factories.customer()
    db.session.commit()
    for payload in REDIRECT_PAYLOADS:
        response = client.post(_with("/login", next=payload), data={
            "email": "f@example.com", "password": PASSWORD, "csrf_token": csrf_token(client)})
        assert redirected_locally(response, payload)
        export = client.get(_with("/admin/customer/export/csv/", url=payload))
        assert export.status_code == (400 if "\x00" in payload else 200)
        export.get_data()
        export.close()  # a streamed download holds its request context until closed
        reliability.count("redirects", 2)
