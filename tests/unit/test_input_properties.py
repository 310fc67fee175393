"""Property-based tests (hypothesis) of the input rules, without a database: thousands of cases."""
import csv
import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.export import amount_text, csv_rows, neutralise, row_cells
from actions.form_checks import BIDI_CONTROLS
from admin_app.redirects import is_local_path
from models.money import MAX_AMOUNT_CENTS, parse_amount, plain_amount
from tests.hardening.payloads import stays_on_site
from tests.hardening.test_csv_injection import live_cells
from tests.hardening.strategies import numbers, texts

MANY = dict(deadline=None, derandomize=True, database=None, max_examples=2000,
            suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(**MANY)
@given(text=st.one_of(numbers, texts))
def test_an_accepted_amount_is_ascii_digits_and_fits(reliability, text):
    try:
        cents = parse_amount(text, "USD")
    except ValueError as exc:
        assert str(exc)  # a message for the admin
    else:
        assert re.fullmatch(r"-?[0-9,]*\.?[0-9]*", text.strip())
        assert isinstance(cents, int) and abs(cents) <= MAX_AMOUNT_CENTS
    reliability.count("fuzz")
    reliability.count("fuzz_parsers")


@settings(**MANY)
@given(text=st.one_of(texts, st.text(alphabet=" \u00a0\u3000\n;,=+-@\t\r\"'0123456789().ab"
                                              "\uff1d\uff0b\uff0d\uff20", max_size=14)))
def test_a_cell_is_safe_however_a_spreadsheet_splits_it(reliability, text):
    """Issue 20: written between two cells and read back with ',', ';' or tab as the
    separator, no cell starts with a formula; only quotes were added."""
    out = neutralise(text)
    assert out.replace("'", "") == text.replace("'", "")
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["x", out, "y"])
    for separator in (",", ";", "\t"):
        assert live_cells(buffer.getvalue(), separator)[0] == [], separator
    reliability.count("fuzz")
    reliability.count("fuzz_parsers")


@settings(**MANY)
@given(target=st.one_of(texts, st.text(alphabet="/\\:.@%evilhtps \t\n?#", max_size=20)))
def test_a_followed_redirect_target_stays_on_the_site(reliability, target):
    if is_local_path(target):
        assert stays_on_site(target)
    reliability.count("fuzz")
    reliability.count("fuzz_parsers")


@settings(**MANY)
@given(text=texts)
def test_bidi_controls_are_found_wherever_they_are(reliability, text):
    """The one text rule (models/text.py, issue 20): bidi controls and control characters."""
    has = any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069
              or c in "\u200e\u200f\u061c\u2028\u2029" or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F
              for c in text)
    assert bool(BIDI_CONTROLS.search(text)) == has
    reliability.count("fuzz")
    reliability.count("fuzz_parsers")


TRICKY = " \u00a0\u3000\n;,=+-@\t\r\"'0123456789().abZoë\u3042\uff1d\uff0b\uff0d\uff20\uff21"
cell = st.one_of(st.none(), texts, st.text(alphabet=TRICKY, max_size=10))
phone = st.one_of(cell, st.text(alphabet="+-0123456789 ().\t\r\na=@\uff0b", max_size=8))
db_rows = st.lists(st.tuples(*[cell] * 6, phone, *[cell] * 4, st.sampled_from([None, "DE", "GB", "XX", "=1"]),
                             cell, st.integers(-10**12, 10**12)), min_size=1, max_size=6)


@settings(**{**MANY, "max_examples": 500})
@given(rows=db_rows, currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_the_quick_export_writes_exactly_what_row_cells_writes(reliability, rows, currency):
    """The export writes a row none of whose cells needs a quote as the database has it
    (checked for a whole batch at once, else row by row): the same CSV text as row_cells
    (neutralise on every cell) gives, whatever the text (None is an empty cell in both)."""
    expected = _csv(row_cells(row, currency) for row in rows)
    assert _csv(csv_rows(currency)(rows)) == expected
    # one at a time: the batch check on each row alone
    assert "".join(_csv(csv_rows(currency)([row])) for row in rows) == expected
    reliability.count("fuzz")


def _csv(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


@settings(**MANY)
@given(cents=st.integers(-10**15, 10**15), currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_the_exports_amount_text_is_plain_amount(reliability, cents, currency):
    assert amount_text(currency)(cents) == plain_amount(cents, currency)
    reliability.count("fuzz")
