"""Edit Sale: change a payment's affiliate and commission."""
import re

import pytest
from sqlalchemy import select

from models import AuditEvent, Transaction, db
from tests import factories
from tests.conftest import csrf_token, login


@pytest.fixture
def sale():
    c = factories.customer()
    old, new = factories.affiliate(1000, name="Old Partner"), factories.affiliate(2500, name="New Partner")
    tx = factories.payment(c, 8000, affiliate_id=old.id, commission_cents=800, refunded_cents=2000)
    db.session.commit()
    return tx.id, old.id, new.id


def _post(client, tx_id, affiliate, commission, csrf=True):
    data = {"affiliate": affiliate, "commission": commission}
    if csrf:
        data["csrf_token"] = csrf_token(client, "/admin/transaction/")
    return client.post(f"/admin/transaction/action/affiliate/{tx_id}/?url=/admin/transaction/",
                       data=data, follow_redirects=True)


def _tx(tx_id):
    db.session.expire_all()
    tx = db.session.get(Transaction, tx_id)
    return tx.affiliate_id, tx.commission_cents


def test_modal_offers_affiliates_with_default_commission_on_the_net_amount(client, sale):
    login(client, "support")
    page = client.get(f"/admin/transaction/action/affiliate/{sale[0]}/?modal=1").get_data(as_text=True)
    assert "Edit Sale" in page and "New Partner (25.00 %)" in page and "— No affiliate —" in page
    defaults = re.search(r"var defaults = (\{.*?\});", page).group(1)
    assert f'"{sale[2]}": "15.00"' in defaults  # 25 % of the $60.00 net


def test_change_affiliate_and_commission_is_audited(client, sale):
    login(client, "support")
    page = _post(client, sale[0], str(sale[2]), "15.00").get_data(as_text=True)
    assert "The sale now goes to New Partner with a commission of $15.00." in page
    assert _tx(sale[0]) == (sale[2], 1500)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sale.affiliate"))
    assert event.before == {"affiliate_id": sale[1], "commission_cents": 800}
    assert event.after == {"affiliate_id": sale[2], "commission_cents": 1500}


@pytest.mark.parametrize("affiliate, commission, message", [
    ("new", "60.01", "between $0.00 and the net amount of the sale, $60.00"),
    ("new", "-1", "between $0.00"),
    ("", "5.00", "A sale without an affiliate has no commission."),
    ("new", "ten", "is not an amount"),
])
def test_invalid_commission_changes_nothing(client, sale, affiliate, commission, message):
    login(client, "support")
    value = str(sale[2]) if affiliate == "new" else affiliate
    page = _post(client, sale[0], value, commission).get_data(as_text=True)
    assert message in page
    assert _tx(sale[0]) == (sale[1], 800)


def test_remove_affiliate(client, sale):
    login(client, "finance")
    _post(client, sale[0], "", "0")
    assert _tx(sale[0]) == (None, 0)


def test_viewer_and_missing_csrf_are_refused(client, sale):
    login(client, "viewer")
    assert _post(client, sale[0], str(sale[2]), "1.00").status_code == 200
    assert _tx(sale[0]) == (sale[1], 800)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/transaction/")})
    login(client, "support", "s@example.com")
    assert _post(client, sale[0], str(sale[2]), "1.00", csrf=False).status_code == 400
    assert _tx(sale[0]) == (sale[1], 800)
