"""Issue 2: login, navigation, customers list, profile, 404s."""
import re

import pytest

from models import db
from tests import factories
from tests.conftest import PASSWORD, csrf_token, login, make_admin


def _admin_urls(app):
    """Every /admin URL, with sample values for its arguments."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "admin.static":
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{arg}>", "refund" if "name" in arg else "1", url)
        yield url, rule.methods


def test_every_admin_url_requires_login(app, client):
    urls = list(_admin_urls(app))
    assert len(urls) > 30
    for url, methods in urls:
        for method in {"GET", "POST"} & methods:
            response = client.open(url, method=method)
            assert response.status_code in (302, 400), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"], url


def test_login_follows_local_next_only(client):
    make_admin("viewer", "v@example.com")
    for target, expected in [("/admin/transaction/", "/admin/transaction/"),
                             ("https://evil.example/", "/admin/"),
                             ("//evil.example/", "/admin/")]:
        response = client.post(f"/login?next={target}", data={
            "email": "v@example.com", "password": PASSWORD, "csrf_token": csrf_token(client)})
        assert response.headers["Location"] == expected
        client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/customer/")})


def test_wrong_password_is_refused(client):
    make_admin("owner", "o@example.com")
    response = client.post("/login", data={"email": "o@example.com", "password": "nope",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401 and "Wrong email or password" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client):
    make_admin("owner", "o@example.com")
    assert client.post("/login", data={"email": "o@example.com", "password": PASSWORD}
                       ).status_code == 400
    login(client, "support")
    customer = factories.customer()
    db.session.commit()
    response = client.post(f"/admin/customer/edit/?id={customer.id}",
                           data={"name": "Changed", "email": customer.email})
    assert response.status_code == 400
    db.session.refresh(customer)
    assert customer.name != "Changed"


def test_sales_menu(owner_client):
    page = owner_client.get("/admin/customer/").get_data(as_text=True)
    for label in ("Sales", "Customers", "Transactions", "Subscriptions", "Plans", "Affiliates"):
        assert f">{label}<" in page or f"> {label}" in page or label in page


def _names(page):
    return re.findall(r'<td class="col-name">\s*(.*?)\s*</td>', page, re.S)


def test_search_by_name_or_email_is_partial_and_case_insensitive(owner_client):
    factories.customer(name="John Smith", email="john@acme.com")
    factories.customer(name="Ann Smithers", email="ann@other.org")
    factories.customer(name="Bob Jones", email="BOB@ACME.COM")
    db.session.commit()
    search = lambda q: sorted(_names(owner_client.get(f"/admin/customer/?search={q}").get_data(as_text=True)))  # noqa: E731
    assert search("smi") == ["Ann Smithers", "John Smith"]
    assert search("SMI") == ["Ann Smithers", "John Smith"]
    assert search("@acme.com") == ["Bob Jones", "John Smith"]
    assert search("nobody") == []


def test_lifetime_value_sort_with_tie_breaker(owner_client):
    for i, value in enumerate([500, 90000, 500, 1200, 500]):
        factories.customer(name=f"C{i}", lifetime_value_cents=value)
    db.session.commit()
    page = owner_client.get("/admin/customer/?sort=2&desc=1").get_data(as_text=True)
    assert _names(page) == ["C1", "C3", "C4", "C2", "C0"]
    assert "$900.00" in page
    page = owner_client.get("/admin/customer/?sort=2").get_data(as_text=True)
    assert _names(page) == ["C0", "C2", "C4", "C3", "C1"]


def test_each_row_has_one_profile_button_at_the_far_right(owner_client):
    factories.customer(name="Only One")
    db.session.commit()
    page = owner_client.get("/admin/customer/").get_data(as_text=True)
    row = re.search(r"<tr>\s*(.*?)</tr>", page.split("<tbody>")[-1] if "<tbody>" in page
                    else page.split("</thead>")[1], re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert "Profile" in cells[-1] and "fa-pencil" not in row


def test_default_order_is_newest_first(owner_client):
    for i in range(3):
        factories.customer(name=f"N{i}")
    db.session.commit()
    assert _names(owner_client.get("/admin/customer/").get_data(as_text=True)) == ["N2", "N1", "N0"]


def test_profile_shows_details_transactions_newest_first_and_subscriptions(owner_client):
    from models import Refund
    c = factories.customer(name="Ada Lovelace", company="Analytical Ltd", country="GB")
    old = factories.payment(c, 1000, description="Old course", minutes=10)
    new = factories.payment(c, 2000, gateway="paypal", description="New course", minutes=20)
    db.session.add(Refund(transaction_id=new.id, amount_cents=500, currency="USD",
                          status="succeeded"))
    new.refunded_cents = 500
    c.lifetime_value_cents -= 500
    factories.subscription(c, factories.plan("Pro Quarterly", 9900, "month", 3))
    db.session.commit()
    page = owner_client.get(f"/admin/customer/profile/{c.id}/?modal=1").get_data(as_text=True)
    assert "Ada Lovelace" in page and "Analytical Ltd" in page and "United Kingdom" in page
    assert "$25.00" in page  # lifetime value
    assert page.index("New course") < page.index("Old course")
    assert "PayPal" in page and "Stripe" in page and "Refund $5.00" in page
    for text in ("Pro Quarterly", "Active", "$99.00", "Every 3 months", "Start Date",
                 "Next Payment Date"):
        assert text in page
    assert old.id and f'data-transaction-id="{old.id}"' in page


def test_profile_pages_long_histories(owner_client):
    c = factories.customer()
    for i in range(30):
        factories.payment(c, 100, description=f"Payment {i:02d}", minutes=i + 1)
    db.session.commit()
    first = owner_client.get(f"/admin/customer/profile/{c.id}/").get_data(as_text=True)
    assert "Payment 29" in first and "Payment 04" not in first and "Older" in first
    second = owner_client.get(f"/admin/customer/profile/{c.id}/?tx_page=1").get_data(as_text=True)
    assert "Payment 04" in second and "Payment 29" not in second


@pytest.mark.parametrize("url", ["/admin/customer/profile/999999/",
                                 "/admin/customer/avatar/999999",
                                 "/admin/transaction/action/refund/999999/",
                                 "/admin/transaction/action/nosuch/1/"])
def test_unknown_ids_give_404(owner_client, url):
    response = owner_client.get(url)
    assert response.status_code == 404 and "There is nothing here" in response.get_data(as_text=True)
