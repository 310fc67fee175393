"""Shared set-up of the subscription action tests: a subscription on each gateway of the
test's sandbox, renewing on 20 Dec 2026, and Deps with a fixed clock."""
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from admin_app.composition import deps_from_app
from models import Subscription, db
from tests import factories
from tests.conftest import make_admin
from tests.gateway_sandbox import subscriptions_view

START = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
RENEWAL = datetime(2026, 12, 20, 10, tzinfo=timezone.utc)
TENTH = datetime(2026, 12, 10, 10, tzinfo=timezone.utc)


@dataclass
class Setup:
    """The subscription under test, its gateway's view of the sandbox, and plans to move to."""

    sub_id: int
    gateway: str
    ref: str
    fake: object  # StripeSubscriptionsView or PayPalSubscriptionsView
    other_plan_id: int

    def sub(self):
        db.session.expire_all()
        return db.session.get(Subscription, self.sub_id)

    def effects(self):
        return [what for what, _ in self.fake.effects]

    def change_calls(self):
        """The requests that may change the subscription at the gateway, with their keys."""
        return [(call, call.headers.get("Idempotency-Key")
                 or call.headers.get("PayPal-Request-Id"))
                for call in self.fake._fake.calls
                if call.method in ("POST", "DELETE") and "/subscriptions/" in call.path]


def configure(app, sandbox):
    """The app's adapters pointed at the test's sandbox (its clock on the 10th, as Deps)."""
    app.config.update(sandbox.config(), STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=2,
                      PAYPAL_MAX_RETRIES=0, PAYPAL_TIMEOUT=2)
    sb = sandbox.sandbox
    sb.offset = max(sb.offset, int(TENTH.timestamp() - time.time()))


def deps_at(app, when=TENTH):
    return deps_from_app(app, clock=lambda: when)


def make(gateway, sandbox, price_cents=3000):
    """A USD monthly subscription at price_cents on `gateway`, with a $50.00 plan to move to."""
    customer = factories.customer(name="Ada Lovelace")
    if gateway == "stripe":
        fake = subscriptions_view(sandbox, "stripe")
        price = fake.add_price(price_cents, "usd")
        ref = fake.add_subscription(price, int(START.timestamp()), int(RENEWAL.timestamp()))
        other = fake.add_price(5000, "usd", product=price["product"])
        ids = {"stripe_price_id": price["id"]}, {"stripe_price_id": other["id"]}
    else:
        fake = subscriptions_view(sandbox, "paypal")
        value = f"{price_cents / 100:.2f}"
        plan_ref = fake.add_plan(value, "USD")
        ref = fake.add_subscription(plan_ref, "2026-12-20T10:00:00Z")
        ids = {"paypal_plan_id": plan_ref}, {"paypal_plan_id": fake.add_plan("50.00", "USD")}
    plan = factories.plan("Silver", price_cents, **ids[0])
    other = factories.plan("Gold", 5000, **ids[1])
    sub = factories.subscription(customer, plan, gateway=gateway, gateway_id=ref,
                                 start_date=START, next_payment_date=RENEWAL,
                                 current_period_end=RENEWAL)
    db.session.commit()
    return Setup(sub.id, gateway, ref, fake, other.id)


@pytest.fixture
def finance(app):
    return make_admin("finance")


@pytest.fixture(params=["stripe", "paypal"])
def setup(request, app, sandbox):
    configure(app, sandbox)
    return make(request.param, sandbox)


@pytest.fixture
def paypal_setup(app, sandbox):
    configure(app, sandbox)
    return make("paypal", sandbox)
