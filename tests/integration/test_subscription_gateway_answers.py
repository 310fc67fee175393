"""What a subscription change records comes from the gateway's answer (issue 17, findings 12
and 13), on both gateways' HTTP fakes."""
import pytest
from sqlalchemy import select

from actions.subscription_plan import change_subscription_plan
from actions.subscription_preview import preview_subscription_change
from actions.subscription_price import change_subscription_price
from models import Plan, SubscriptionChange, db
from tests.integration.subscription_setup import (configure, deps_at, finance,  # noqa: F401
                                                  make, paypal_setup, setup)

pytestmark = pytest.mark.timeout(60)


def only_change():
    [change] = db.session.scalars(select(SubscriptionChange)).all()
    return change


def _gateway_price_of(setup, plan, cents):
    """The gateway charges `cents` for the plan; our catalog still says otherwise."""
    if setup.gateway == "stripe":
        setup.fake.prices[plan.stripe_price_id]["unit_amount"] = cents
    else:
        setup.fake.plans[plan.paypal_plan_id] = (f"{cents / 100:.2f}", "USD")


def test_a_plan_change_records_the_gateways_price_not_the_catalogs(app, setup, finance):
    plan = db.session.get(Plan, setup.other_plan_id)  # $50.00 in the catalog
    _gateway_price_of(setup, plan, 5500)

    result = change_subscription_plan(deps_at(app), finance, setup.sub_id, plan.id)

    assert setup.sub().price_cents == 5500
    assert "at $55.00" in result.message and "the catalog says $50.00" in result.message


@pytest.fixture
def stripe_setup(app, sandbox):
    configure(app, sandbox)
    return make("stripe", sandbox)


def test_the_preview_of_a_change_now_is_stripes_amount_due(app, stripe_setup, finance):
    setup = stripe_setup
    setup.fake.tax_rate_bp = 1000  # 10 % tax
    setup.fake.customer_balance = -200  # a $2.00 credit on the customer's balance

    lines, _ = preview_subscription_change(deps_at(app), finance, setup.sub_id,
                                           amount_cents=4500, effective="now")

    # 10 of 30 days left: -$10.00 + $15.00 = $5.00, + 10 % tax = $5.50, - $2.00 credit
    assert lines[1] == "Charged now: $3.50 (the difference for the rest of this period)."


def test_a_declined_card_on_a_change_now_changes_nothing_and_says_so(app, stripe_setup,
                                                                      finance):
    setup = stripe_setup
    setup.fake.card_declines = True
    price_before = setup.fake.subscriptions[setup.ref]["items"]["data"][0]["price"]["id"]

    result = change_subscription_price(deps_at(app), finance, setup.sub_id, 4500,
                                       effective="now")

    [(call, _)] = setup.change_calls()
    assert call.form["payment_behavior"] == "pending_if_incomplete"
    held = setup.fake.subscriptions[setup.ref]
    assert held["items"]["data"][0]["price"]["id"] == price_before  # unchanged at Stripe
    assert held["status"] == "active" and setup.sub().price_cents == 3000  # and here
    assert result.category == "warning"
    assert result.message.startswith("Stripe could not take the payment for this change")
    assert "nothing changed, the subscription still costs $30.00 per cycle" in result.message
    assert "Stripe charged" not in result.message
    assert only_change().status == "awaiting_payment"


def test_a_plan_change_now_with_a_declined_card_changes_nothing(app, stripe_setup, finance):
    setup = stripe_setup
    setup.fake.card_declines = True

    result = change_subscription_plan(deps_at(app), finance, setup.sub_id,
                                      setup.other_plan_id, proration="always_invoice")

    sub = setup.sub()
    assert (sub.plan_id, sub.price_cents) != (setup.other_plan_id, 5000)
    assert result.category == "warning" and "nothing changed" in result.message
