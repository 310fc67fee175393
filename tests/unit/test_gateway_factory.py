"""get_gateway(): which settings it needs, what it says when they are missing, sharing."""
import threading

import pytest

from actions.errors import GatewayNotConfigured
from actions.gateways import PayPalGateway, StripeGateway, get_gateway
from admin_app.config import DEFAULTS

STRIPE = {**DEFAULTS, "STRIPE_API_KEY": "sk_test_factory"}
PAYPAL = {**DEFAULTS, "PAYPAL_CLIENT_ID": "id-factory", "PAYPAL_CLIENT_SECRET": "secret"}


@pytest.mark.parametrize(("name", "config", "message"), [
    ("stripe", DEFAULTS,
     "Stripe is not configured (STRIPE_API_KEY is empty); nothing was sent to Stripe."),
    ("paypal", DEFAULTS,
     "PayPal is not configured (PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET are empty); "
     "nothing was sent to PayPal."),
    ("paypal", {**PAYPAL, "PAYPAL_CLIENT_SECRET": ""},
     "PayPal is not configured (PAYPAL_CLIENT_SECRET is empty); nothing was sent to PayPal."),
    ("stripe", {}, "Stripe is not configured (STRIPE_API_KEY is empty); "
                   "nothing was sent to Stripe."),
])
def test_not_configured(name, config, message):
    with pytest.raises(GatewayNotConfigured) as caught:
        get_gateway(name, config)

    assert caught.value.message == message and caught.value.gateway == name
    assert not caught.value.outcome_unknown


def test_unknown_gateway():
    with pytest.raises(ValueError, match="Unknown payment gateway 'braintree'"):
        get_gateway("braintree", STRIPE)


def test_stripe_settings():
    gateway = get_gateway("stripe", {**STRIPE, "STRIPE_TIMEOUT": "4"})

    assert isinstance(gateway, StripeGateway) and gateway.timeout == 4


def test_paypal_defaults_to_the_live_api():
    gateway = get_gateway("paypal", {**PAYPAL, "PAYPAL_API_BASE": ""})

    assert isinstance(gateway, PayPalGateway)
    assert gateway.api_base == "https://api-m.paypal.com" and gateway.timeout == 10


def test_adapter_is_shared_while_settings_stay_the_same():
    first = get_gateway("paypal", PAYPAL)

    assert get_gateway("paypal", dict(PAYPAL)) is first
    assert get_gateway("paypal", {**PAYPAL, "PAYPAL_CLIENT_SECRET": "rotated"}) is not first


def test_threads_share_one_adapter():
    config = {**PAYPAL, "PAYPAL_CLIENT_ID": "id-threads"}
    start, found = threading.Barrier(8), []

    def fetch():
        start.wait()
        found.append(get_gateway("paypal", config))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(found) == 8 and len({id(gateway) for gateway in found}) == 1
