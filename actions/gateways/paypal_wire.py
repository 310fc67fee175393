"""PayPal's wire formats: decimal amount strings, error JSON."""
from actions.gateways.currencies import to_paypal


def paypal_amount(cents, currency, purpose="refunded"):
    """Integer minor units -> PayPal's decimal string (currencies.PAYPAL: HUF, JPY and TWD
    without decimals): (1000, 'EUR') -> '10.00', (100000, 'HUF') -> '1000'."""
    return to_paypal(cents, currency, purpose)


def json_object(response):
    """The answer's JSON object, or {} when PayPal (or a proxy) sent something else."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
