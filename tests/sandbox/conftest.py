"""A sandbox of Stripe and PayPal on loopback for one test, and the adapters pointed at it."""
import pytest

from actions.gateways import get_gateway


@pytest.fixture
def sandbox_server(sandbox):
    """The run's loopback sandbox server with a clean state (tests/gateway_sandbox.py)."""
    return sandbox


@pytest.fixture
def sb(sandbox_server):
    sandbox_server.sandbox.hang_seconds = 0  # a timeout fault is a lost answer, at once
    return sandbox_server.sandbox


@pytest.fixture
def gateways(sandbox_server):
    config = {**sandbox_server.config(), "STRIPE_MAX_RETRIES": 0, "PAYPAL_MAX_RETRIES": 0,
              "STRIPE_TIMEOUT": 5, "PAYPAL_TIMEOUT": 5}
    return {name: get_gateway(name, config) for name in ("stripe", "paypal")}


DAY = 86400


@pytest.fixture
def accounts(sb):
    """A Stripe customer with a paid charge and a monthly subscription; a PayPal payer with
    a capture and a monthly subscription; both subscriptions end their period in 10 days."""
    now = sb.now()
    with sb.lock:
        cus = sb.stripe.customer(email="ada@example.com", name="Ada Lovelace", country="GB")
        price = sb.stripe.price(amount=4900, currency="usd", interval="month",
                                nickname="Pro Monthly")
        charge = sb.stripe.payment(customer=cus["id"], amount=4900, currency="usd",
                                   created=now - 20 * DAY, description="Pro — first payment",
                                   metadata={"memberdesk_transaction_id": "7"})
        sub = sb.stripe.subscription(customer=cus["id"], price=price, status="active",
                                     start=now - 20 * DAY, period_start=now - 20 * DAY,
                                     period_end=now + 10 * DAY)
        payer = sb.paypal.payer(email="grace@example.com", name="Grace Hopper", country="US")
        plan = sb.paypal.plan(name="Pro via PayPal", amount=1900, currency="USD",
                              interval="month")
        capture = sb.paypal.capture(payer=payer["payer_id"], amount=5000, currency="USD",
                                    created=now - DAY, description="Course", custom_id="8")
        psub = sb.paypal.subscription(plan_id=plan["id"], payer=payer["payer_id"],
                                      status="ACTIVE", start=now - 20 * DAY,
                                      next_billing=now + 10 * DAY,
                                      last_payment=(now - 20 * DAY, 1900, "USD"))
    return {"charge": charge, "sub": sub, "price": price, "capture": capture, "psub": psub,
            "plan": plan, "payer": payer, "customer": cus}
