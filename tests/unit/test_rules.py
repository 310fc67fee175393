"""The rules that live in one place each, checked without a database or a server."""
from types import SimpleNamespace

import pytest

from actions import get_action, ROW_ACTIONS
from actions.commission import commission_reversal
from actions.deps import Deps
from actions.errors import NotAllowed
from actions.gateways.paypal import paypal_amount
from actions.ltv import counts
from actions.permissions import require
from admin_app.forms import vat_error
from models.money import parse_amount


@pytest.mark.parametrize("commission, net, amount, back", [
    (800, 8000, 2000, 200),    # a quarter of the net: a quarter of the commission
    (800, 8000, 8000, 800),    # all that is left: all of it
    (800, 8000, 9000, 800),    # never more than there is
    (333, 1000, 500, 167),     # rounded half up
    (0, 8000, 2000, 0),
    (800, 0, 100, 0),          # nothing left to refund: nothing to give back
    (800, 8000, 0, 0),
])
def test_commission_reversal_is_proportional_and_bounded(commission, net, amount, back):
    assert commission_reversal(commission, net, amount) == back


def test_successive_partial_refunds_never_reverse_more_than_the_commission():
    commission, net = 1001, 9999
    for _ in range(7):
        back = commission_reversal(commission, net, 1428)
        commission, net = commission - back, net - 1428
        assert commission >= 0
    assert commission_reversal(commission, net, net) == commission


def _admin(role, active=True):
    from models.admin_user import ROLES
    return SimpleNamespace(role=role, can=lambda p: active and p in ROLES[role])


def test_require_refuses_with_the_role_in_the_message():
    require(_admin("finance"), "refund")
    with pytest.raises(NotAllowed, match=r"Your role \(support\) does not allow this \(refund\)"):
        require(_admin("support"), "refund")
    with pytest.raises(NotAllowed):
        require(_admin("owner", active=False), "refund")
    with pytest.raises(NotAllowed):
        require(None, "view")


def test_lifetime_value_counts_succeeded_payments_in_the_store_currency_only():
    assert counts("succeeded", "USD", "USD")
    assert not counts("succeeded", "EUR", "USD")
    assert not counts("failed", "USD", "USD") and not counts("pending", "USD", "USD")


def test_deps_formats_money_in_the_store_locale():
    deps = Deps(store_currency="EUR", gateways=lambda name: None, locale="de_DE")
    assert deps.money(123450) == "1.234,50\xa0€"
    assert deps.money(500, "JPY") == "500\xa0¥"


@pytest.mark.parametrize("text, currency, cents", [
    ("12", "USD", 1200), ("1,234.50", "USD", 123450), ("0.01", "USD", 1), ("500", "JPY", 500),
])
def test_parse_amount_exact(text, currency, cents):
    assert parse_amount(text, currency) == cents


@pytest.mark.parametrize("text, currency", [("10.001", "USD"), ("abc", "USD"), ("1.5", "JPY")])
def test_parse_amount_refuses_what_is_not_exact(text, currency):
    with pytest.raises(ValueError):
        parse_amount(text, currency)


def test_paypal_amount_has_the_currency_precision():
    assert paypal_amount(1234, "EUR") == "12.34"
    assert paypal_amount(1234, "jpy") == "1234"


@pytest.mark.parametrize("number, country, ok", [
    ("DE136695976", "DE", True), ("DE136695977", "DE", False), ("", "", False),
])
def test_vat_rule(number, country, ok):
    assert (vat_error(number, country) is None) is ok


def test_every_registered_row_action_has_its_module_name():
    for name in ROW_ACTIONS:
        assert get_action(name).name == name
    with pytest.raises(KeyError):
        get_action("delete_everything")
