"""Transactions and Subscriptions lists: search, filters, sort, and no query per row."""

import pytest

from models import Refund, db
from tests import factories
from tests.sql_spy import statements


def _seed(n, start=0):
    aff = factories.affiliate()
    plan = factories.plan()
    for i in range(start, start + n):
        c = factories.customer(name=f"Person {i}", email=f"p{i}@{'acme' if i % 2 else 'other'}.com")
        tx = factories.payment(c, 1000 + i, gateway="paypal" if i % 3 == 0 else "stripe",
                               affiliate_id=aff.id, commission_cents=100)
        db.session.add(Refund(transaction_id=tx.id, amount_cents=100, currency="USD",
                              status="succeeded"))
        factories.subscription(c, plan, affiliate_id=aff.id, gateway="paypal" if i % 2 else "stripe")
    db.session.commit()


@pytest.mark.parametrize("url", ["/admin/transaction/", "/admin/subscription/"])
def test_list_query_count_does_not_grow_with_rows(owner_client, url):
    _seed(5)
    owner_client.get(url)
    with statements() as few:
        owner_client.get(url)
    _seed(30, start=5)
    with statements() as many:
        page = owner_client.get(url).get_data(as_text=True)
    assert "Person 34" in page and len(many) == len(few)


def test_transactions_search_by_customer_and_filter_by_gateway_and_date(owner_client):
    _seed(6)
    page = owner_client.get("/admin/transaction/?search=@acme.com").get_data(as_text=True)
    assert "Person 1" in page and "Person 0" not in page
    page = owner_client.get("/admin/transaction/?flt0_0=paypal").get_data(as_text=True)
    assert "Person 0" in page and "Person 3" in page and "Person 1" not in page
    page = owner_client.get(
        "/admin/transaction/?flt0_2=2030-01-01+to+2030-12-31").get_data(as_text=True)
    assert "Person" not in page
    page = owner_client.get("/admin/transaction/?flt0_0=paypal&flt1_2=2026-01-01+to+2026-12-31"
                            ).get_data(as_text=True)
    assert "Person 3" in page and "Person 1" not in page


def test_subscriptions_show_guide_columns(owner_client):
    c = factories.customer(name="Quarterly Buyer")
    factories.subscription(c, factories.plan("Pro Quarterly", 9900, "month", 3))
    db.session.commit()
    page = owner_client.get("/admin/subscription/?search=quarterly").get_data(as_text=True)
    for text in ("Pro Quarterly", "$99.00", "Every 3 months", "Start Date", "Next Payment Date"):
        assert text in page
