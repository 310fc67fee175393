"""The largest amount each gateway takes in one charge, per currency (issue 21 item 4).

Stripe ("Supported currencies", minimum and maximum charge amounts): an amount has at most
eight digits in the currency's smallest unit — 99,999,999: $999,999.99, €999,999.99,
¥99,999,999 — whatever the currency.

PayPal publishes a maximum transaction amount per currency (its currency code table:
USD 10,000, EUR 8,000, GBP 5,500, AUD and CAD 12,500, JPY 1,000,000, ...); an account may
have a lower limit of its own, which PayPal answers with TRANSACTION_LIMIT_EXCEEDED. For a
currency the table does not name, Stripe's eight-digit bound is used as the sanity cap.
"""
from decimal import Decimal

from babel.numbers import get_currency_precision

from actions.errors import InvalidRequest

STRIPE_MAX_UNITS = 99_999_999
#: PayPal's published maximum per transaction, in major units
PAYPAL_MAX = {"USD": 10_000, "EUR": 8_000, "GBP": 5_500, "AUD": 12_500, "CAD": 12_500,
              "JPY": 1_000_000, "CHF": 70_000, "SEK": 350_000, "NOK": 400_000,
              "DKK": 300_000, "PLN": 160_000, "HUF": 11_000_000, "SGD": 80_000,
              "HKD": 380_000, "NZD": 77_000, "CZK": 120_000}
NAMES = {"stripe": "Stripe", "paypal": "PayPal"}


def max_cents(gateway, currency):
    """The largest amount, in our minor units, `gateway` takes in one charge of currency."""
    currency = currency.upper()
    if gateway == "paypal" and currency in PAYPAL_MAX:
        return int(Decimal(PAYPAL_MAX[currency]).scaleb(get_currency_precision(currency)))
    return STRIPE_MAX_UNITS


def check_max(gateway, cents, currency, money):
    """InvalidRequest (nothing changed) when cents is above the gateway's maximum;
    money(cents, currency) formats the figures for the message."""
    top = max_cents(gateway, currency)
    if cents > top:
        raise InvalidRequest(f"{NAMES.get(gateway, gateway)} takes at most "
                             f"{money(top, currency)} in one payment; nothing was changed.")
