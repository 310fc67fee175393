"""Issue 21 item 1: Upgrade Plan offers every active plan of the subscription's currency that
its gateway knows, on any billing cycle, grouped Upgrade / Downgrade by price per month; with
nothing to offer it says so and Save is disabled; the server refuses what is not offered."""
import re

import pytest

from actions.errors import InvalidRequest
from actions.subscription_plan import change_subscription_plan, monthly_price
from models import db
from tests import factories
from tests.conftest import login
from tests.integration.subscription_setup import deps_at, finance, setup  # noqa: F401
from tests.integration.test_subscription_roles import changes


def modal(client, sub_id):
    return client.get(f"/admin/subscription/action/subscription_plan/{sub_id}/?modal=1"
                      "&url=/admin/subscription/").get_data(as_text=True)


def groups(html):
    found = {}
    for label, body in re.findall(r'<optgroup label="(\w+)">(.*?)</optgroup>', html, re.S):
        found[label] = re.findall(r"<option[^>]*>([^<—]+) —", body)
    return {k: [name.strip() for name in v] for k, v in found.items()}


def test_monthly_normalised_prices():
    assert monthly_price(12900, "month", 3) == 4300
    assert monthly_price(49000, "year", 1) < monthly_price(4900, "month", 1)
    assert monthly_price(1000, "week", 1) > 4000


def test_every_plan_of_the_currency_on_any_cycle_grouped(app, client, setup):
    ids = {"stripe_price_id": "price_x", "paypal_plan_id": "P-X"}
    factories.plan("Starter Monthly", 1900, **ids)
    factories.plan("Pro Quarterly", 12900, interval_count=3, **ids)  # $43 a month
    factories.plan("Pro Yearly", 49000, interval="year", **ids)  # $40.83 a month
    factories.plan("Business Monthly", 9900, **ids)
    factories.plan("Euro Monthly", 9900, currency="EUR", **ids)
    factories.plan("Retired", 9900, active=False, **ids)
    factories.plan("No gateway id", 9900)
    db.session.commit()
    login(client, "owner")
    html = modal(client, setup.sub_id)  # the subscription: Silver, $30.00 monthly
    assert groups(html) == {"Upgrade": ["Pro Yearly", "Pro Quarterly", "Gold",
                                        "Business Monthly"],
                            "Downgrade": ["Starter Monthly"]}
    assert "(≈ $43.00 a month)" in html and "disabled" not in html.split("md-action-form")[1]
    if setup.gateway == "paypal":
        assert "same PayPal product" in html
    else:
        assert "starts a new billing period today" in html


def test_a_yearly_plan_is_recorded_with_its_cycle(app, setup, finance):
    ref = {"stripe": "stripe_price_id", "paypal": "paypal_plan_id"}[setup.gateway]
    gold = db.session.get(factories.Plan, setup.other_plan_id)
    yearly = factories.plan("Gold Yearly", 5000, interval="year", **{ref: getattr(gold, ref)})
    db.session.commit()
    change_subscription_plan(deps_at(app), finance, setup.sub_id, yearly.id)
    sub = setup.sub()
    if setup.gateway == "paypal" and sub.approval_url:
        return  # waiting for the payer's consent: nothing recorded yet
    assert (sub.plan_id, sub.interval, sub.interval_count) == (yearly.id, "year", 1)


def test_nothing_to_offer_says_so_and_disables_save(app, client, setup, finance):
    gold = db.session.get(factories.Plan, setup.other_plan_id)
    gold.active = False
    euro = factories.plan("Euro", 5000, currency="EUR", stripe_price_id="p", paypal_plan_id="P")
    db.session.commit()
    login(client, "owner")
    html = modal(client, setup.sub_id)
    assert "There is no other active USD plan" in html
    assert re.search(r'<button type="submit"[^>]*disabled', html)
    assert "md-preview" not in html
    for plan_id in (gold.id, euro.id):
        with pytest.raises(InvalidRequest, match="Choose another active plan"):
            change_subscription_plan(deps_at(app), finance, setup.sub_id, plan_id)
        db.session.rollback()
    assert changes() == 0 and setup.change_calls() == []
