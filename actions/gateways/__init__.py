"""Payment gateway adapters; get_gateway() builds one from the app's configuration."""
import threading
from collections.abc import Mapping

from actions.errors import GatewayNotConfigured
from actions.gateways.base import Gateway, GatewayResult
from actions.gateways.paypal import PayPalGateway
from actions.gateways.stripe import StripeGateway

__all__ = ["Gateway", "GatewayResult", "PayPalGateway", "StripeGateway", "get_gateway"]

_adapters = {}
_adapters_lock = threading.Lock()


def get_gateway(name: str, config: Mapping) -> Gateway:
    """The adapter for "stripe" or "paypal", shared while its settings stay the same."""
    if name not in _KINDS:
        raise ValueError(f"Unknown payment gateway {name!r}: expected 'stripe' or 'paypal'.")
    adapter_class, settings_of = _KINDS[name]
    settings = settings_of(config)
    with _adapters_lock:
        if (name, settings) not in _adapters:
            _adapters[name, settings] = adapter_class(*settings)
        return _adapters[name, settings]


def _stripe_settings(config):
    """StripeGateway's arguments: api_key, api_base, timeout, max_retries."""
    _require(config, "Stripe", ["STRIPE_API_KEY"])
    return (config["STRIPE_API_KEY"], config.get("STRIPE_API_BASE") or None,
            int(config.get("STRIPE_TIMEOUT", 10)), int(config.get("STRIPE_MAX_RETRIES", 2)))


def _paypal_settings(config):
    """PayPalGateway's arguments: client_id, client_secret, api_base, timeout, max_retries."""
    _require(config, "PayPal", ["PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET"])
    return (config["PAYPAL_CLIENT_ID"], config["PAYPAL_CLIENT_SECRET"],
            config.get("PAYPAL_API_BASE") or "https://api-m.paypal.com",
            int(config.get("PAYPAL_TIMEOUT", 10)), int(config.get("PAYPAL_MAX_RETRIES", 2)))


def _require(config, vendor, keys):
    """Raise GatewayNotConfigured naming every empty setting among keys."""
    empty = [key for key in keys if not config.get(key)]
    if empty:
        names = " and ".join(empty)
        verb = "is" if len(empty) == 1 else "are"
        raise GatewayNotConfigured(
            f"{vendor} is not configured ({names} {verb} empty); "
            f"nothing was sent to {vendor}.", gateway=vendor.lower())


_KINDS = {"stripe": (StripeGateway, _stripe_settings),
          "paypal": (PayPalGateway, _paypal_settings)}
