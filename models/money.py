"""Money in integer minor units: formatting and parsing through Babel, never floats."""
from decimal import Decimal, InvalidOperation

from babel.numbers import (NumberFormatError, format_currency, get_currency_precision,
                           parse_decimal)


def to_decimal(cents, currency):
    """Minor units -> exact Decimal in major units (1234, 'USD') -> Decimal('12.34')."""
    return Decimal(int(cents)).scaleb(-get_currency_precision(currency))


def format_money(cents, currency, locale="en_US"):
    """1234550, 'USD' -> '$12,345.50'."""
    if cents is None:
        return ""
    return format_currency(to_decimal(cents, currency), currency, locale=locale)


def plain_amount(cents, currency):
    """A spreadsheet-friendly number: '1234.50', '-3.00', no symbol or grouping."""
    return f"{to_decimal(cents, currency):.{get_currency_precision(currency)}f}"


def parse_amount(text, currency, locale="en_US"):
    """'1,234.50' -> 123450 minor units; ValueError with a readable message if not exact."""
    try:
        value = parse_decimal(str(text).strip(), locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        raise ValueError(f"“{text}” is not an amount.") from None
    digits = get_currency_precision(currency)
    cents = value.scaleb(digits)
    if cents != cents.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {digits} decimal places.")
    return int(cents)
