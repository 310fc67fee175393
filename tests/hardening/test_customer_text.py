"""Issue 20, item 13: one text rule for every customer field — no control characters and no
invisible text-direction characters — refused with a message in the edit form, cleaned when
the text arrives from a gateway (webhook, sync)."""
import pytest
from sqlalchemy import select

from models import Customer, db
from models.customer import DETAIL_FIELDS
from tests import factories
from tests.conftest import csrf_token, login
from tests.fakes import stripe_events as se
from tests.hardening.test_bad_input import snapshot
from tests.webhook_helpers import hook_app, post_stripe, settle  # noqa: F401 (fixture)

FIELDS = dict(name="Ada Lovelace", email="ada@example.com", company="Analytical Ltd",
              company_id="12345", company_email="billing@analytical.example", tax_id="T-1",
              phone="+44 20 1234 5678", address="1 Engine Row", city="London", state="",
              postal_code="NW1 6XE", country="GB", vat_number="")
HIDDEN = ["\u200f", "\u202e", "\u2066", "\x7f\x01\x02", "\t", "\n", "\x1b[31m", "\x85",
          "\u2028", "\u061c"]
TEXT_FIELDS = [n for n, _ in DETAIL_FIELDS if n not in ("country", "email", "company_email")]


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_every_customer_field_refuses_hidden_characters(client, field, reliability):
    customer = factories.customer(name="Ada", email="ada@old.example")
    db.session.commit()
    login(client, "owner")
    before = snapshot()
    for hidden in HIDDEN:
        value = f"1 Engine{hidden}Row"
        data = dict(FIELDS, **{field: value},
                    csrf_token=csrf_token(client, f"/admin/customer/edit/?id={customer.id}"))
        response = client.post(f"/admin/customer/edit/?id={customer.id}", data=data,
                               content_type="multipart/form-data")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (field, hidden)
        assert f"U+{ord(hidden[0]):04X}" in page, (field, hidden)
        reliability.count("bad_input")
    assert {k: v for k, v in snapshot().items() if k != "audit_event"} == \
        {k: v for k, v in before.items() if k != "audit_event"}


def test_text_from_a_stripe_webhook_is_stored_clean(hook_app, client):
    evt = se.event("customer.created", se.customer(
        email="bidi@example.com", name="\t=1+1 Evil\u202egpj.exe\x01\x7f"))
    assert post_stripe(client, evt).status_code == 200
    settle()
    customer = db.session.scalar(select(Customer).where(Customer.email == "bidi@example.com"))
    assert customer.name == "=1+1 Evilgpj.exe"


def test_the_model_cleans_whatever_writes_it(app):
    customer = factories.customer(name="A\u200fB", address="Line 1\nLine 2",
                                  tax_id="\x7f\x01\x02X")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Customer, customer.id)
    assert (stored.name, stored.address, stored.tax_id) == ("AB", "Line 1 Line 2", "X")
