from tests.conftest import login
from tests import factories


def test_customers_list_shows_money(client):
    login(client)
    c = factories.customer(name="Ada Lovelace")
    factories.payment(c, 123450)
    from models import db
    db.session.commit()
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert "Ada Lovelace" in page and "$1,234.50" in page
