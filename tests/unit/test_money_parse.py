"""Amounts typed by an admin: ASCII digits with the locale's separators, nothing else."""
import pytest

from models.money import MAX_AMOUNT_CENTS, parse_amount


@pytest.mark.parametrize("text, locale, cents", [
    ("12", "en_US", 1200), ("1,234.50", "en_US", 123450), (" 7.5 ", "en_US", 750),
    (".5", "en_US", 50), ("-3", "en_US", -300), ("0", "en_US", 0),
    ("1.234,50", "de_DE", 123450), ("12,5", "de_DE", 1250),
    ("1 234,50", "fr_FR", 123450), ("1\u202f234,50", "fr_FR", 123450),
    ("1\u00a0234,50", "fr_FR", 123450),
])
def test_amounts_in_the_locales_own_writing(text, locale, cents):
    assert parse_amount(text, "USD", locale) == cents


@pytest.mark.parametrize("text", [
    "Infinity", "-Infinity", "infinity", "inf", "NaN", "-nan", "sNaN", "1e-2", "1E2", "1e5",
    "1_0", "1_000.00", "١٢", "１２", "१२", "১২", "๑๒", "12\u0663", "½", "²", "0x10", "+-1",
    "1,2,3.4.5", "", " ", "-", ".", "$12", "12 USD", "1.234,50", "\x00", "1\x002",
])
def test_anything_else_is_not_an_amount(text):
    with pytest.raises(ValueError) as raised:
        parse_amount(text, "USD")
    assert "amount" in str(raised.value) or "decimal places" in str(raised.value)


def test_too_many_decimals_and_absurd_sizes_are_refused():
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        parse_amount("10.001", "USD")
    with pytest.raises(ValueError, match="at most 0 decimal places"):
        parse_amount("10.5", "JPY")
    with pytest.raises(ValueError, match="larger than any payment"):
        parse_amount("9" * 20, "USD")
    assert parse_amount(str(MAX_AMOUNT_CENTS // 100), "USD") == MAX_AMOUNT_CENTS
