"""Gateway faults under the subscription actions: our message, records unchanged (or the
change left pending, to be finished), and doing it again acts exactly once at the gateway."""
import pytest
from sqlalchemy import select

from actions.errors import GatewayDeclined, GatewayUnavailable
from actions.subscription_cancel import cancel_subscription
from actions.subscription_pause import pause_subscription
from actions.subscription_plan import change_subscription_plan
from actions.subscription_price import change_subscription_price
from models import SubscriptionChange, db
from tests.gateway_sandbox import FAULTS
from tests.integration.subscription_setup import deps_at, finance, setup  # noqa: F401

pytestmark = pytest.mark.timeout(90)

ACTIONS = {
    "price": (lambda deps, actor, s: change_subscription_price(deps, actor, s.sub_id, 4500),
              {"stripe": "price", "paypal": "revise"}, "price change"),
    "plan": (lambda deps, actor, s: change_subscription_plan(deps, actor, s.sub_id,
                                                             s.other_plan_id),
             {"stripe": "price", "paypal": "revise"}, "plan change"),
    "cancel": (lambda deps, actor, s: cancel_subscription(deps, actor, s.sub_id),
               {"stripe": "cancel_at_period_end", "paypal": "cancel"}, "cancellation"),
    "pause": (lambda deps, actor, s: pause_subscription(deps, actor, s.sub_id),
              {"stripe": "pause", "paypal": "suspend"}, "pause"),
}
WATCHED = ("price_cents", "plan_id", "name", "status", "cancel_at_period_end", "access_until",
           "paused", "approval_url")


def watched(sub):
    return {name: getattr(sub, name) for name in WATCHED}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("action", ACTIONS)
def test_fault_then_retry(app, setup, finance, action, fault):
    do, effect, what = ACTIONS[action]
    before = watched(setup.sub())
    setup.fake.faults.add(fault)
    if setup.gateway == "paypal" and fault in ("timeout", "reset"):
        # no idempotency promise on these PayPal verbs: the lost answer is settled by
        # reading the subscription, which shows the change applied
        do(deps_at(app), finance, setup)
        [change] = db.session.scalars(select(SubscriptionChange)).all()
        assert change.status == "succeeded" and watched(setup.sub()) != before
        assert setup.effects() == [effect[setup.gateway]]
        return

    with pytest.raises((GatewayDeclined, GatewayUnavailable)) as caught:
        do(deps_at(app), finance, setup)

    error = caught.value
    assert "refund" not in error.message and error.audited
    assert watched(setup.sub()) == before  # nothing changed locally
    [change] = db.session.scalars(select(SubscriptionChange)).all()
    if error.outcome_unknown:
        assert change.status == "pending"
        assert error.message.endswith(f"The {what} stays pending here: do it again to finish "
                                      "it; it cannot act twice.")
    else:
        assert change.status == "failed" and change.failure_message == error.message
    setup.fake._fake.release()

    do(deps_at(app), finance, setup)

    assert setup.effects() == [effect[setup.gateway]]  # acted exactly once at the gateway
    changes = db.session.scalars(select(SubscriptionChange).order_by(SubscriptionChange.id))
    assert [c.status for c in changes] == (["succeeded"] if error.outcome_unknown
                                           else ["failed", "succeeded"])
    assert watched(setup.sub()) != before
