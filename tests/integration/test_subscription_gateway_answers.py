"""What a subscription change records comes from the gateway's answer (issue 17, findings 12
and 13), on both gateways' HTTP fakes."""
import pytest

from actions.subscription_plan import change_subscription_plan
from models import Plan, db
from tests.integration.subscription_setup import (deps_at, finance,  # noqa: F401
                                                  paypal_setup, setup)

pytestmark = pytest.mark.timeout(60)


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
    assert "$55.00 per cycle" in result.message and "the catalog says $50.00" in result.message
