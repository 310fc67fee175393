"""Money in integer minor units: formatting and parsing through Babel, never floats."""
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import (NumberFormatError, format_currency, get_currency_precision,
                           get_decimal_symbol, get_group_symbol, parse_decimal)

# Largest amount accepted from a form, in minor units: far above any real payment, far below
# the 64-bit columns (so a typo gets a message, not a database error).
MAX_AMOUNT_CENTS = 10 ** 15
SPACE_GROUPS = (" ", "\u00a0", "\u202f")  # what a person types for a space-like group symbol


def to_decimal(cents, currency):
    """Minor units -> exact Decimal in major units (1234, 'USD') -> Decimal('12.34')."""
    return Decimal(int(cents)).scaleb(-get_currency_precision(currency))


@lru_cache(maxsize=64)
def _locale(identifier):
    """The parsed Locale, once per process: Babel parses an identifier again at every step
    of every call given a string (five times per amount), a Locale object it takes as is."""
    return Locale.parse(identifier)


def babel_locale(locale):
    """A locale identifier as a parsed Locale (once per process); a Locale or None as is.
    Dates too: a list's date column parsed the store locale twice per row (issue 22)."""
    return _locale(locale) if isinstance(locale, str) else locale


@lru_cache(maxsize=8192)  # pure; a page formats the same few amounts many times (Home)
def format_money(cents, currency, locale="en_US"):
    """1234550, 'USD' -> '$12,345.50'."""
    if cents is None:
        return ""
    return format_currency(to_decimal(cents, currency), currency, locale=_locale(locale))


def plain_amount(cents, currency):
    """A spreadsheet-friendly number: '1234.50', '-3.00', no symbol or grouping."""
    return f"{to_decimal(cents, currency):.{get_currency_precision(currency)}f}"


@lru_cache(maxsize=64)
def amount_pattern(locale):
    """What an amount may look like in `locale`: ASCII digits, its separators, a leading minus."""
    group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
    groups = SPACE_GROUPS if group.isspace() else (group,)
    group_class = "".join(re.escape(g) for g in groups)
    dec = re.escape(decimal)
    return re.compile(rf"-?(?=[0-9]|{dec}[0-9])(?:[0-9][0-9{group_class}]*)?(?:{dec}[0-9]*)?")


def parse_amount(text, currency, locale="en_US"):
    """'1,234.50' -> 123450 minor units; ValueError with a readable message if not exact.

    Only ASCII digits with the locale's own separators are an amount: no exponent ('1e-2'),
    no underscores ('1_0'), no Infinity/NaN, no other digit systems ('١٢', '１２', '१२').
    """
    raw = str(text).strip()
    if not amount_pattern(locale).fullmatch(raw):
        raise ValueError(f"“{text}” is not an amount.")
    group = get_group_symbol(locale)
    if group.isspace():
        raw = re.sub("[" + "".join(SPACE_GROUPS) + "]", group, raw)
    try:
        value = parse_decimal(raw, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        raise ValueError(f"“{text}” is not an amount.") from None
    digits = get_currency_precision(currency)
    cents = value.scaleb(digits)
    if cents != cents.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {digits} decimal places.")
    if abs(cents) > MAX_AMOUNT_CENTS:
        raise ValueError(f"“{text}” is far larger than any payment.")
    return int(cents)
