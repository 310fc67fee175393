"""Issue 13: every response carries a nonce-based CSP, frame-ancestors 'none', nosniff and a
Referrer-Policy; every script tag on a page carries that response's nonce."""
import re

import pytest

from tests import factories
from tests.conftest import login

SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b([^>]*)>", re.I)


def _csp(response):
    return dict(part.strip().split(" ", 1) for part in
                response.headers["Content-Security-Policy"].split(";"))


def _nonce(response):
    return re.search(r"'nonce-([^']+)'", _csp(response)["script-src"]).group(1)


@pytest.mark.parametrize("url", ["/login", "/admin/customer/", "/static-missing", "/logout"])
def test_headers_on_every_kind_of_response(client, url):
    login(client, "owner")
    response = client.get(url)
    csp = _csp(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert "'unsafe-inline'" not in csp["script-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_each_response_has_its_own_nonce(client):
    assert _nonce(client.get("/login")) != _nonce(client.get("/login"))


def _pages(client):
    cust = factories.customer(name="Ada Lovelace")
    tx = factories.payment(cust, 5000)
    factories.db.session.commit()
    yield "/login"
    login(client, "owner")
    for url in ("/admin/customer/", "/admin/transaction/", "/admin/subscription/",
                "/admin/plan/", "/admin/affiliate/", "/admin/audit/", "/admin/users/",
                f"/admin/customer/profile/{cust.id}/?modal=1",
                f"/admin/customer/profile/{cust.id}/", "/account/password"):
        yield url
    for action in ("invoice", "refund", "affiliate"):
        yield f"/admin/transaction/action/{action}/{tx.id}/"


def test_every_script_and_style_tag_carries_the_nonce(client):
    for url in _pages(client):
        response = client.get(url)
        assert response.status_code == 200, url
        nonce = _nonce(response)
        tags = SCRIPT_OR_STYLE.findall(response.get_data(as_text=True))
        for name, attrs in tags:
            assert f'nonce="{nonce}"' in attrs, f"{url}: <{name}{attrs}> without the nonce"
