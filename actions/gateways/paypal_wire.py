"""PayPal's wire formats: decimal amount strings, error JSON."""
from decimal import Decimal

from babel.numbers import get_currency_precision

from actions.errors import InvalidRequest

#: currencies PayPal takes in whole units only, although ISO 4217 gives them cents
WHOLE_UNITS_ONLY = ("HUF", "TWD")


def paypal_amount(cents, currency, purpose="refunded"):
    """Integer minor units -> PayPal's decimal string: (1000, 'EUR') -> '10.00', JPY -> '1000'."""
    currency = currency.upper()
    digits = get_currency_precision(currency)
    value = Decimal(int(cents)).scaleb(-digits)
    if currency in WHOLE_UNITS_ONLY:
        if value != value.to_integral_value():
            raise InvalidRequest(f"PayPal takes whole {currency} amounts only; {value} "
                                 f"{currency} cannot be {purpose} through PayPal.")
        digits = 0
    return f"{value:.{digits}f}"


def json_object(response):
    """The answer's JSON object, or {} when PayPal (or a proxy) sent something else."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
