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
    fast = _fast_money(currency, locale)
    if fast is not None:
        return fast(int(cents))
    return _babel_money(cents, currency, locale)


def _babel_money(cents, currency, locale):
    return format_currency(to_decimal(cents, currency), currency, locale=_locale(locale))


# Amounts _fast_money's formatter must write exactly as Babel does before it is used: every
# length of whole part up to 19 digits, with and without groups, fractions, zero, negatives.
_CHECKS = sorted({s * v for s in (1, -1) for v in (
    [0, 1, 5, 9, 10, 42, 99, 100, 101, 999, 1000, 1001, 9999, 10000, 12345, 99999]
    + [10 ** k + r for k in range(5, 19) for r in (0, 7, 10 ** (k - 1) * 3 + 456)]
    + [10 ** k - 1 for k in range(5, 20)])})


@lru_cache(maxsize=256)
def _fast_money(currency, locale):
    """A formatter of integer minor units equal to Babel's format_currency for this currency
    and locale, or None where one was not found: prefix, grouped whole part, decimal symbol,
    fraction, suffix, read from Babel's own answer for one amount and then checked against
    Babel on _CHECKS. An amount not yet formatted cost Babel about 15-19 us of CPU, a list
    page of lifetime values at 1M customers about 50 of them (issue 22)."""
    digits = get_currency_precision(currency)
    probe = 1234567 * 10 ** digits + (int("89"[:digits].ljust(digits, "8")) if digits else 0)
    try:
        shapes = [_shape(_babel_money(sign * probe, currency, locale), digits)
                  for sign in (1, -1)]
    except (ValueError, ArithmeticError):
        return None
    if None in shapes or shapes[0][1:] != shapes[1][1:]:
        return None
    (positive, group, decimal, primary, secondary), (negative, *_rest) = shapes
    scale = 10 ** digits

    def whole_text(whole):
        text = str(whole)
        if len(text) <= primary:
            return text
        head, parts = text[:-primary], [text[-primary:]]
        while len(head) > secondary:
            parts.append(head[-secondary:])
            head = head[:-secondary]
        parts.append(head)
        return group.join(reversed(parts))

    def formatter(cents):
        whole, fraction = divmod(-cents if cents < 0 else cents, scale)
        number = whole_text(whole)
        if digits:
            number += decimal + str(fraction).rjust(digits, "0")
        before, after = negative if cents < 0 else positive
        return before + number + after

    try:
        if any(formatter(c) != _babel_money(c, currency, locale) for c in _CHECKS):
            return None
    except (ValueError, ArithmeticError):
        return None
    return formatter


def _shape(text, digits):
    """((prefix, suffix), group, decimal, primary, secondary) of Babel's text for 1,234,567
    and the fraction digits 8..9 (or None when it is not written with ASCII digits so)."""
    runs = re.findall(r"[0-9]+|[^0-9]+", text)
    numeric = [i for i, run in enumerate(runs) if run[0].isdigit()]
    if not numeric:
        return None
    first, last = numeric[0], numeric[-1]
    number = runs[first:last + 1]
    fraction = ""
    if digits:
        if len(number) < 3:
            return None
        fraction, decimal, number = number[-1], number[-2], number[:-2]
    else:
        decimal = ""
    wholes, separators = number[0::2], set(number[1::2])
    if "".join(wholes) != "1234567" or len(separators) != 1 or len(wholes) < 3:
        return None
    if fraction != ("89"[:digits].ljust(digits, "8") if digits else ""):
        return None
    return (("".join(runs[:first]), "".join(runs[last + 1:])), separators.pop(), decimal,
            len(wholes[-1]), len(wholes[-2]))


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
