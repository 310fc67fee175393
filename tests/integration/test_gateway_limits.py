"""Issue 21 item 4: Edit Subscription refuses an amount above the gateway's maximum (Stripe
$999,999.99; PayPal $10,000.00 per payment in USD), beside the field and in the action."""
import pytest

from actions.errors import InvalidRequest
from actions.gateways.limits import max_cents
from actions.subscription_price import change_subscription_price
from models import db
from tests.conftest import login
from tests.integration.subscription_setup import deps_at, finance, setup  # noqa: F401
from tests.integration.test_subscription_roles import changes, post

TOO_MUCH = {"stripe": ("1000000.00", "$999,999.99"), "paypal": ("10000.01", "$10,000.00")}


def test_each_gateways_maximum():
    assert max_cents("stripe", "USD") == 99_999_999
    assert max_cents("stripe", "JPY") == 99_999_999  # eight digits, whatever the currency
    assert max_cents("paypal", "USD") == 1_000_000
    assert max_cents("paypal", "JPY") == 1_000_000  # ¥1,000,000, zero-decimal
    assert max_cents("paypal", "EUR") == 800_000


def test_a_price_above_the_gateways_maximum_is_refused(app, client, setup, finance):
    typed, limit = TOO_MUCH[setup.gateway]
    with pytest.raises(InvalidRequest, match=f"takes at most \\{limit}"):
        change_subscription_price(deps_at(app), finance, setup.sub_id, 100_000_000_00)
    db.session.rollback()
    login(client, "owner")
    page = post(client, "subscription_price", setup.sub_id,
                {"amount": typed, "effective": "next_renewal"})
    assert f"takes at most {limit} in one payment" in page
    assert changes() == 0 and setup.change_calls() == []
    assert setup.sub().price_cents == 3000
    page = post(client, "subscription_price", setup.sub_id,
                {"amount": limit.lstrip("$").replace(",", ""), "effective": "next_renewal"})
    assert "takes at most" not in page and setup.sub().price_cents == \
        max_cents(setup.gateway, "USD")
