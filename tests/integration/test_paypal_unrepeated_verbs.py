"""PayPal's subscription verbs without an idempotency promise (issue 17, finding 14): no
PayPal-Request-Id where PayPal's API description does not declare one, no blind re-send on
429/5xx, and a failure without a clear answer settled by reading the subscription."""
import pytest

from actions.errors import GatewayDeclined
from actions.subscription_cancel import cancel_subscription
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.subscription_price import change_subscription_price
from models import SubscriptionChange, db
from tests.gateway_sandbox import APPLIED_500
from tests.integration.subscription_setup import deps_at, finance, paypal_setup  # noqa: F401

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def retrying(app, paypal_setup):
    """PayPal calls with the retry policy on (two retries), as in production."""
    app.config["PAYPAL_MAX_RETRIES"] = 2
    deps_at(app).gateways("paypal").get_subscription(paypal_setup.ref)  # a token PayPal takes
    paypal_setup.fake._fake.calls.clear()
    return paypal_setup


def posts(setup, endpoint):
    return [c for c in setup.fake._fake.calls
            if c.method == "POST" and c.path.endswith(f"/{endpoint}")]


def change():
    [row] = db.session.query(SubscriptionChange).all()
    return row


def test_the_subscription_verbs_carry_no_paypal_request_id(app, retrying, finance):
    setup = retrying
    change_subscription_price(deps_at(app), finance, setup.sub_id, 4500)
    pause_subscription(deps_at(app), finance, setup.sub_id)
    resume_subscription(deps_at(app), finance, setup.sub_id)
    cancel_subscription(deps_at(app), finance, setup.sub_id)
    sent = [c for c in setup.fake._fake.calls if c.method == "POST"
            and "/v1/billing/subscriptions/" in c.path]
    assert [c.path.rsplit("/", 1)[-1] for c in sent] == ["revise", "suspend", "activate",
                                                           "cancel"]
    assert all("PayPal-Request-Id" not in c.headers for c in sent)


def test_a_pause_paypal_applied_but_answered_500_is_reported_as_applied(app, retrying,
                                                                        finance):
    setup = retrying
    setup.fake.faults.add(APPLIED_500)

    result = pause_subscription(deps_at(app), finance, setup.sub_id)

    assert result.category == "success"
    assert setup.sub().paused and change().status == "succeeded"
    assert len(posts(setup, "suspend")) == 1 and setup.effects() == ["suspend"]


def test_a_pause_refused_with_500_is_not_resent_and_changes_nothing(app, retrying, finance):
    setup = retrying
    setup.fake.faults.add(500)  # PayPal did nothing; a blind retry would pause it

    with pytest.raises(GatewayDeclined, match="PayPal shows no change, so nothing was paused"):
        pause_subscription(deps_at(app), finance, setup.sub_id)

    assert len(posts(setup, "suspend")) == 1 and setup.effects() == []
    assert not setup.sub().paused and change().status == "failed"


def test_a_price_revision_applied_but_answered_500_is_recorded(app, retrying, finance):
    setup = retrying
    setup.fake.faults.add(APPLIED_500)

    change_subscription_price(deps_at(app), finance, setup.sub_id, 4500)

    assert setup.sub().price_cents == 4500 and change().status == "succeeded"
    assert len(posts(setup, "revise")) == 1
    assert setup.fake.prices[setup.ref] == ("45.00", "USD")
