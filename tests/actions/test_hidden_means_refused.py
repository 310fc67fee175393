"""Every rule that hides a button is also refused in the action function: for any state of a
subscription or payment, when a row action's `available(obj)` hides its button, calling its
function anyway (a crafted POST, a job, the CLI) is refused and changes nothing."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import get_action
from actions.affiliate import set_sale_affiliate
from actions.errors import ActionError, InvalidRequest
from actions.refund import refund_transaction
from actions.subscription_approval import check_approval
from actions.subscription_cancel import cancel_subscription, undo_cancel
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.subscription_plan import change_subscription_plan
from actions.subscription_price import change_subscription_price
from models import Subscription, Transaction, db
from models.subscription import SUBSCRIPTION_STATUSES
from tests import factories
from tests.actions.support import (FAST, nothing_changes, other_plan, paid, start_over,
                                   subscribed)

SUBSCRIPTION_CALLS = {
    "subscription_price": lambda d, a, s, plan: change_subscription_price(d, a, s.id, 7700),
    "subscription_plan": lambda d, a, s, plan: change_subscription_plan(d, a, s.id, plan.id),
    "subscription_cancel": lambda d, a, s, plan: cancel_subscription(d, a, s.id),
    "subscription_undo_cancel": lambda d, a, s, plan: undo_cancel(d, a, s.id),
    "subscription_pause": lambda d, a, s, plan: pause_subscription(d, a, s.id),
    "subscription_resume": lambda d, a, s, plan: resume_subscription(d, a, s.id),
    "subscription_approval": lambda d, a, s, plan: check_approval(d, a, s.id),
}

subscription_states = st.fixed_dictionaries({
    "gateway": st.sampled_from(["stripe", "paypal"]),
    "status": st.sampled_from(SUBSCRIPTION_STATUSES),
    "paused": st.booleans(),
    "cancel_at_period_end": st.booleans(),
    "approval_url": st.sampled_from([None, "https://paypal.test/approve/x"]),
})


@pytest.mark.parametrize("name", sorted(SUBSCRIPTION_CALLS))
@settings(FAST, max_examples=8)
@given(state=subscription_states)
def test_a_hidden_subscription_action_is_refused_by_its_function(deps, actors, gateways, name,
                                                                 state):
    start_over()
    gateway = state.pop("gateway")
    sub = subscribed(gateways, gateway=gateway, **state)
    plus = other_plan()
    action = get_action(name)
    sub = db.session.get(Subscription, sub.id)
    if action.available(sub, deps.clock()):  # the clock the function uses
        return  # shown: its own preconditions are tested beside it
    with nothing_changes(gateways), pytest.raises(InvalidRequest):
        SUBSCRIPTION_CALLS[name](deps, actors["owner"], sub, plus)


payment_states = st.fixed_dictionaries({
    "status": st.sampled_from(["succeeded", "pending", "failed"]),
    "refunded_share": st.sampled_from([0, 1, 2]),  # none, half, all of it refunded
})


@settings(FAST, max_examples=8)
@given(state=payment_states)
def test_hidden_payment_actions_are_refused_by_their_functions(deps, actors, gateways, state):
    start_over()
    tx = paid(gateways, 10000, status=state["status"],
              refunded_cents=5000 * state["refunded_share"])
    partner = factories.affiliate()
    db.session.commit()
    tx = db.session.get(Transaction, tx.id)
    calls = {"refund": lambda: refund_transaction(deps, actors["owner"], tx.id, 100, "other"),
             "affiliate": lambda: set_sale_affiliate(deps, actors["owner"], tx.id, partner.id,
                                                     0)}
    for name, call in calls.items():
        if not get_action(name).available(tx):
            with nothing_changes(gateways), pytest.raises(ActionError):
                call()
