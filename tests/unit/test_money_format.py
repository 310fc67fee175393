"""format_money's own formatter (models/money._fast_money) writes what Babel writes."""
import random

import pytest

from models.money import _babel_money, _fast_money, format_money

CASES = [("USD", "en_US"), ("EUR", "de_DE"), ("EUR", "fr_FR"), ("CHF", "de_CH"),
         ("INR", "en_IN"), ("JPY", "ja_JP"), ("KWD", "ar_KW"), ("BRL", "pt_BR"),
         ("EUR", "es_ES"), ("SEK", "sv_SE"), ("XXX", "en_GB"), ("USD", "fa_IR")]


@pytest.mark.parametrize("currency,locale", CASES)
def test_same_text_as_babel(currency, locale):
    rng = random.Random(f"{currency}{locale}")
    amounts = [rng.randrange(-10 ** k, 10 ** k) for k in (3, 6, 9, 12, 18) for _ in range(40)]
    for cents in amounts + [0, 1, -1, 10 ** 18, -(10 ** 18)]:
        format_money.cache_clear()
        assert format_money(cents, currency, locale) == _babel_money(cents, currency, locale)


def test_found_for_the_common_cases():
    assert all(_fast_money(currency, locale) for currency, locale in CASES)


def test_babel_where_no_formatter_is_found():
    """en_US_POSIX writes no group separator: its shape is not read, Babel formats."""
    assert _fast_money("USD", "en_US_POSIX") is None
    format_money.cache_clear()
    assert format_money(123456789, "USD", "en_US_POSIX") == _babel_money(
        123456789, "USD", "en_US_POSIX") == "$\xa01234567.89"


def test_none_and_non_integers_as_before():
    assert format_money(None, "USD") == ""
    assert format_money(1234.0, "USD") == "$12.34"
