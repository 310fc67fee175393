"""Shared set-up of the subscription action tests: a subscription on each gateway's fake,
renewing on 20 Dec 2026, and Deps with a fixed clock."""
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from admin_app.composition import deps_from_app
from models import Subscription, db
from tests import factories
from tests.conftest import make_admin
from tests.fakes import paypal_fake as pp
from tests.fakes.stripe_fake import API_KEY

START = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
RENEWAL = datetime(2026, 12, 20, 10, tzinfo=timezone.utc)
TENTH = datetime(2026, 12, 10, 10, tzinfo=timezone.utc)


@dataclass
class Setup:
    """The subscription under test, its gateway fake's view, and plans to move to."""

    sub_id: int
    gateway: str
    ref: str
    fake: object  # StripeSubscriptionsFake or PayPalSubscriptionsFake
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


def configure(app, stripe_fake, paypal_fake):
    app.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=stripe_fake.url,
                      STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=1,
                      PAYPAL_CLIENT_ID=pp.CLIENT_ID, PAYPAL_CLIENT_SECRET=pp.CLIENT_SECRET,
                      PAYPAL_API_BASE=paypal_fake.url, PAYPAL_MAX_RETRIES=0, PAYPAL_TIMEOUT=1)


def deps_at(app, when=TENTH):
    return deps_from_app(app, clock=lambda: when)


def make(gateway, stripe_fake, paypal_fake, price_cents=3000):
    """A USD monthly subscription at price_cents on `gateway`, with a $50.00 plan to move to."""
    customer = factories.customer(name="Ada Lovelace")
    if gateway == "stripe":
        fake = stripe_fake.subs
        price = fake.add_price(price_cents, "usd")
        ref = fake.add_subscription(price, int(START.timestamp()), int(RENEWAL.timestamp()))
        other = fake.add_price(5000, "usd", product=price["product"])
        ids = {"stripe_price_id": price["id"]}, {"stripe_price_id": other["id"]}
    else:
        fake = paypal_fake.subs
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
def setup(request, app, stripe_fake, paypal_fake):
    configure(app, stripe_fake, paypal_fake)
    return make(request.param, stripe_fake, paypal_fake)


@pytest.fixture
def paypal_setup(app, stripe_fake, paypal_fake):
    configure(app, stripe_fake, paypal_fake)
    return make("paypal", stripe_fake, paypal_fake)
