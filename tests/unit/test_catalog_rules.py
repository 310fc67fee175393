"""The catalog's limits, checked without a database (actions/catalog.py)."""
import pytest

from actions.catalog import affiliate_values, percent_to_bp, plan_values
from actions.errors import InvalidRequest

PLAN = {"name": " Pro ", "price": "1,299.50", "currency": "eur", "interval": "year",
        "interval_count": 2, "stripe_price_id": " ", "paypal_plan_id": "P-1", "active": True}


def test_plan_values_parse_the_price_in_the_plans_currency():
    assert plan_values(PLAN) == {
        "name": "Pro", "price_cents": 129950, "currency": "EUR", "interval": "year",
        "interval_count": 2, "stripe_price_id": None, "paypal_plan_id": "P-1", "active": True}
    assert plan_values({**PLAN, "currency": "JPY", "price": "1500"})["price_cents"] == 1500
    assert plan_values({**PLAN, "currency": "KWD", "price": "1.125"})["price_cents"] == 1125
    assert plan_values({**PLAN, "price": "0"})["price_cents"] == 0


@pytest.mark.parametrize("change, message", [
    ({"currency": "XXX"}, "not an ISO currency code"),
    ({"currency": "EURO"}, "not an ISO currency code"),
    ({"price": "-0.01"}, "cannot be negative"),
    ({"price": "1.005"}, "at most 2 decimal places"),
    ({"price": ""}, "is not an amount"),
    ({"interval": "fortnight"}, "must be one of day, week, month, year"),
    ({"interval_count": 37}, "Bill every 1 to 36"),
    ({"interval_count": True}, "Bill every 1 to 36"),
    ({"interval_count": None}, "Bill every 1 to 36"),
    ({"name": "  "}, "A name is required"),
    ({"stripe_price_id": "p" * 65}, "at most 64 characters")])
def test_plan_limits(change, message):
    with pytest.raises(InvalidRequest, match=message):
        plan_values({**PLAN, **change})


@pytest.mark.parametrize("text, basis_points", [("0", 0), ("12.5", 1250), ("7.25", 725),
                                                ("100", 10000), ("33.33", 3333)])
def test_percentages_become_basis_points(text, basis_points):
    assert percent_to_bp(text) == basis_points


@pytest.mark.parametrize("text", ["100.01", "-0.5", "12.345", "", "12%", None])
def test_bad_percentages_are_refused(text):
    with pytest.raises(InvalidRequest):
        percent_to_bp(text)


def test_affiliate_email_is_checked_and_normalised():
    values = affiliate_values({"name": "Blog", "email": " Ana@Example.COM ",
                               "commission_percent": "5"})
    assert values == {"name": "Blog", "email": "ana@example.com", "commission_rate_bp": 500}
    with pytest.raises(InvalidRequest, match="Email"):
        affiliate_values({"name": "Blog", "email": "not-an-email", "commission_percent": "5"})
