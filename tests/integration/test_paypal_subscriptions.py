"""PayPalGateway's subscription verbs against the sandbox of PayPal's Subscriptions API."""
from datetime import datetime, timezone

import pytest

from actions.errors import GatewayDeclined, GatewayUnavailable, InvalidRequest
from actions.gateways.paypal import PayPalGateway
from tests.gateway_sandbox import FAULTS
from sandbox.core import PAYPAL_CLIENT_ID as CLIENT_ID
from sandbox.core import PAYPAL_CLIENT_SECRET as CLIENT_SECRET

pytestmark = pytest.mark.timeout(60)

NEXT_BILLING = "2026-12-20T10:00:00Z"


@pytest.fixture
def gateway(paypal_sb):
    return PayPalGateway(CLIENT_ID, CLIENT_SECRET, paypal_sb.url, timeout=10, max_retries=0)


@pytest.fixture
def plan(paypal_sb):
    return paypal_sb.subs.add_plan("30.00", "USD")


@pytest.fixture
def sub(paypal_sb, plan):
    return paypal_sb.subs.add_subscription(plan, NEXT_BILLING)


def sub_calls(paypal_sb):
    return [call for call in paypal_sb.calls if call.path.startswith("/v1/billing/")]


def posts(paypal_sb):
    return [call for call in sub_calls(paypal_sb) if call.method == "POST"]


def test_get_subscription(paypal_sb, gateway, sub, plan):
    state = gateway.get_subscription(sub)

    [call] = sub_calls(paypal_sb)
    assert (call.method, call.path) == ("GET", f"/v1/billing/subscriptions/{sub}")
    assert call.headers["Authorization"].startswith("Bearer A21AA")
    assert state.period_end == datetime(2026, 12, 20, 10, tzinfo=timezone.utc)
    assert (state.status, state.paused, state.price_ref) == ("active", False, plan)


@pytest.mark.parametrize(("trial", "sequence"), [(False, 1), (True, 2)])
def test_change_price_revises_with_a_plan_override(paypal_sb, gateway, plan, trial,
                                                   sequence):
    sub = paypal_sb.subs.add_subscription(plan, NEXT_BILLING, trial=trial)

    result = gateway.change_price(sub, 4500, "USD", "month", 1, proration="none",
                                  idempotency_key="subscription_change:7")

    [call] = posts(paypal_sb)
    assert call.path == f"/v1/billing/subscriptions/{sub}/revise"
    assert call.body == {"plan_id": plan, "plan": {"billing_cycles": [{
        "sequence": sequence,
        "pricing_scheme": {"fixed_price": {"value": "45.00", "currency_code": "USD"}}}]}}
    assert "PayPal-Request-Id" not in call.headers  # not declared on this call
    assert (result.status, result.approval_url) == ("succeeded", None)
    assert paypal_sb.subs.prices[sub] == ("45.00", "USD")


def test_change_plan_without_and_with_the_payers_approval(paypal_sb, gateway, sub):
    gold = paypal_sb.subs.add_plan("50.00", "USD")

    done = gateway.change_plan(sub, gold, proration="none", idempotency_key="k1")

    assert posts(paypal_sb)[-1].body == {"plan_id": gold}
    assert done.status == "succeeded"
    assert paypal_sb.subs.subscriptions[sub]["plan_id"] == gold

    paypal_sb.subs.require_approval = True
    silver = paypal_sb.subs.add_plan("20.00", "USD")
    waiting = gateway.change_plan(sub, silver, proration="none", idempotency_key="k2")

    assert waiting.status == "approval_pending"
    assert waiting.approval_url.startswith("https://www.paypal.com/webapps/billing/")
    assert paypal_sb.subs.subscriptions[sub]["plan_id"] == gold  # until the payer approves


def test_paypal_does_not_prorate(paypal_sb, gateway, sub, plan):
    with pytest.raises(InvalidRequest, match="^PayPal does not prorate"):
        gateway.change_plan(sub, plan, proration="always_invoice", idempotency_key="k")
    preview = gateway.preview_change(sub, amount_cents=4500, currency="USD",
                                     proration="none")
    assert (preview.due_now_cents, preview.proration_cents) == (0, 0)
    assert sub_calls(paypal_sb) == []


def test_cancel_is_immediate_and_keeps_the_next_billing_time(paypal_sb, gateway, sub):
    result = gateway.cancel(sub, at_period_end=True, idempotency_key="subscription_change:3")

    get, cancel = sub_calls(paypal_sb)
    assert get.method == "GET"
    assert cancel.path == f"/v1/billing/subscriptions/{sub}/cancel"
    assert cancel.body == {"reason": "Cancelled by the seller in the admin panel."}
    assert "PayPal-Request-Id" not in cancel.headers  # not declared on /cancel
    assert result.status == "succeeded"
    assert result.state.period_end == datetime(2026, 12, 20, 10, tzinfo=timezone.utc)
    assert paypal_sb.subs.subscriptions[sub]["status"] == "CANCELLED"

    again = gateway.cancel(sub, at_period_end=True, idempotency_key="subscription_change:4")
    assert again.status == "already_canceled"
    assert paypal_sb.subs.effects == [("cancel", sub)]


def test_cancelled_meanwhile_is_already_cancelled(paypal_sb, gateway, sub):
    """PayPal answers 422 because the subscription was cancelled after our look-up."""
    original = gateway.get_subscription

    def stale_then_fresh(ref):
        state = original(ref)
        paypal_sb.subs.subscriptions[sub]["status"] = "CANCELLED"
        gateway.get_subscription = original
        return state

    gateway.get_subscription = stale_then_fresh
    result = gateway.cancel(sub, at_period_end=True, idempotency_key="k")
    assert result.status == "already_canceled"
    assert result.state.period_end == datetime(2026, 12, 20, 10, tzinfo=timezone.utc)


def test_pause_and_resume(paypal_sb, gateway, sub):
    gateway.pause(sub, None, idempotency_key="subscription_change:5")

    call = posts(paypal_sb)[-1]
    assert call.path == f"/v1/billing/subscriptions/{sub}/suspend"
    assert call.body == {"reason": "Payments paused by the seller in the admin panel."}
    assert gateway.get_subscription(sub).paused

    gateway.resume(sub, idempotency_key="subscription_change:6")

    call = posts(paypal_sb)[-1]
    assert call.path == f"/v1/billing/subscriptions/{sub}/activate"
    assert "PayPal-Request-Id" not in call.headers  # not declared on this call
    assert not gateway.get_subscription(sub).paused


def test_what_paypal_cannot_do_sends_nothing(paypal_sb, gateway, sub):
    with pytest.raises(InvalidRequest, match="^PayPal cannot resume payments on a date"):
        gateway.pause(sub, datetime(2027, 1, 5, tzinfo=timezone.utc), idempotency_key="k")
    with pytest.raises(InvalidRequest, match="^PayPal cancels at once and cannot undo"):
        gateway.undo_cancel(sub, idempotency_key="k")
    assert sub_calls(paypal_sb) == []


VERBS = {
    "change_price": (lambda g, s, k: g.change_price(s, 4500, "USD", "month", 1,
                                                    proration="none", idempotency_key=k),
                     "the price change", "the price was not changed", "revise"),
    "change_plan": (lambda g, s, k: g.change_plan(s, PLAN[0], proration="none",
                                                  idempotency_key=k),
                    "the plan change", "the plan was not changed", "revise"),
    "cancel": (lambda g, s, k: g.cancel(s, at_period_end=True, idempotency_key=k),
               "the cancellation", "nothing was cancelled", "cancel"),
    "pause": (lambda g, s, k: g.pause(s, None, idempotency_key=k),
              "the pause", "nothing was paused", "suspend"),
    "resume": (lambda g, s, k: g.resume(s, idempotency_key=k),
               "the resumption", "nothing was resumed", "activate"),
}
PLAN = []


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("verb", VERBS)
def test_faults_give_our_message_and_a_retry_acts_once(paypal_sb, gateway, sub, verb,
                                                       fault):
    """These verbs carry no idempotency promise: a lost answer (timeout, reset) is settled
    by reading the subscription (applied: reported as done); a 409/5xx is not re-sent and,
    PayPal showing no change, says nothing changed; trying again then acts once."""
    PLAN[:] = [paypal_sb.subs.add_plan("50.00", "USD")]
    if verb == "resume":
        paypal_sb.subs.subscriptions[sub]["status"] = "SUSPENDED"
    call, noun, nothing, effect = VERBS[verb]
    paypal_sb.subs.faults.add(fault)

    if fault in ("timeout", "reset"):  # PayPal acted; its answer was lost
        result = call(gateway, sub, "subscription_change:5")
        assert result.status == "succeeded"
        assert [what for what, _ in paypal_sb.subs.effects] == [effect]
        return
    with pytest.raises(GatewayDeclined) as caught:
        call(gateway, sub, "subscription_change:5")

    message = caught.value.message
    if fault in (409, 500):
        assert message.endswith(f"PayPal shows no change, so {nothing}. Try again.")
    elif fault == 404:
        assert message == f"PayPal has no subscription {sub}."
    elif fault == 429:
        assert message == (f"PayPal is limiting requests right now; {nothing}. "
                           "Try again in a minute.")
    else:
        assert message == f"PayPal refused {noun}: Invalid subscription status for this action."
    assert paypal_sb.subs.effects == []
    paypal_sb.release()

    call(gateway, sub, "subscription_change:5")

    assert [what for what, _ in paypal_sb.subs.effects] == [effect]


VERB_TWICE = {"change_price": "it will not change the price twice",
              "change_plan": "it will not change the plan twice",
              "cancel": "it will not cancel twice", "pause": "it will not pause twice",
              "resume": "it will not resume twice"}


def test_resume_after_a_lost_answer_and_an_unreadable_subscription_acts_once(
        paypal_sb, gateway, sub):
    gateway.pause(sub, None, idempotency_key="subscription_change:1")
    paypal_sb.subs.faults.add("reset")
    paypal_sb.subs.read_faults.add(500)  # the look-up that would decide fails too

    with pytest.raises(GatewayUnavailable, match="whether the resumption went through"):
        gateway.resume(sub, idempotency_key="subscription_change:2")
    result = gateway.resume(sub, idempotency_key="subscription_change:2")  # refused: done

    assert result.status == "succeeded"
    assert [what for what, _ in paypal_sb.subs.effects] == ["suspend", "activate"]


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_on_reading(paypal_sb, gateway, sub, fault):
    paypal_sb.subs.read_faults.add(fault)

    with pytest.raises((GatewayDeclined, GatewayUnavailable)) as caught:
        gateway.get_subscription(sub)

    message = caught.value.message
    if fault in ("timeout", "reset", 409, 500):
        assert message.endswith("so the subscription look-up failed; nothing was changed. "
                                "Try again in a minute.")
    assert "refund" not in message
