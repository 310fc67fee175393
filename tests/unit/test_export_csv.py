"""The CSV building blocks of the customers export, without a database."""
import csv
import io
from datetime import datetime, timezone

import pytest

from actions.export import (HEADER, export_filename, header_line, neutralise, row_cells,
                            selected_ids)

EXPECTED_HEADER = ["Name", "Email", "Company", "Company ID", "Company Email", "Tax ID", "Phone",
                   "Address", "City", "State", "Zip/Postal Code", "Country", "VAT Number",
                   "Lifetime Value"]


def _row(**kw):
    """A database row in export column order: 13 details then lifetime value in cents."""
    values = dict(name="Ada", email="ada@example.com", company=None, company_id=None,
                  company_email=None, tax_id=None, phone=None, address=None, city=None,
                  state=None, postal_code=None, country=None, vat_number=None, ltv=0)
    values.update(kw)
    return tuple(values.values())


def _parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def test_header_is_exactly_the_guides_columns():
    assert HEADER == EXPECTED_HEADER
    assert header_line() == ",".join(EXPECTED_HEADER) + "\r\n"
    assert header_line(bom=True) == "\ufeff" + header_line()


@pytest.mark.parametrize("value", [
    "=1+1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil.example","Click")',
    # + or - with anything but a phone number's characters after it
    "+1 555 0100 ext", "-1+2", "+cmd|' /C calc'!A0", "-", "+", "-2+3*cmd|x", "+1 (555) =1",
    # the trigger after blanks: space, no-break space, newline
    " =1", "   =1+1", "\u00a0=1", "\n@SUM(A1)", " \n\u00a0+cmd|x", "\n-1+1",
    # a second cell inside when read with `;` or `,` as the separator
    "Ada;=1+1", "Ada,=1+1", "Ada, =HYPERLINK(1)", "x;+cmd|x", "x,-1+1", "x;@SUM(A1)",
    "x;\u00a0=1", "Smith; +1 555 0100",
])
def test_formula_cells_are_quoted_wherever_a_spreadsheet_may_start_a_cell(value):
    """Issue 20: a quote before the whole cell is not enough ("'Ada;=1+1" read with ';' is
    "'Ada" and "=1+1"): every piece after a separator or line break gets its own."""
    from tests.hardening.test_csv_injection import live_cells
    safe = neutralise(value)
    assert safe != value and safe.replace("'", "") == value.replace("'", "")
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["x", safe, "y"])
    for separator in (",", ";", "\t"):
        assert live_cells(buffer.getvalue(), separator)[0] == [], separator


@pytest.mark.parametrize("value", [
    "Ada", "", "a=b", "1-2", "x,\t1", "ada@example.com", "'quoted", "Smith, Jones", "a;b", "x - y",
    # plainly a phone number or a number: + or - then digits, spaces, dots, dashes, ( )
    "+1 217-555-0199", "+44 20 7946 0958", "+44 (20) 7946.0958", "-2", "-3.50", "+49 (0)30 1234",
    "-1", " +1 555 0100", "\u00a0-2",
])
def test_ordinary_cells_and_phone_numbers_are_left_alone(value):
    assert neutralise(value) == value


def test_a_phone_number_cell_is_exported_as_the_database_has_it():
    cells = row_cells(_row(phone="+1 217-555-0199", company="=cmd|x"), "USD")
    assert cells[6] == "+1 217-555-0199" and cells[2] == "'=cmd|x"


@pytest.mark.parametrize("name", ["-1", "+1 555 0100", " -2", "-(3)"])
def test_a_plain_number_first_in_its_row_is_quoted(name):
    """Issue 20, item 2: read with ';' or tab, a row with no ';' or tab in it is one cell that
    starts with the first column: "-1,ada@example.com,..." is a live formula there, although
    "-1" alone is a plain number (and stays one in any other column)."""
    from actions.export import csv_rows
    from tests.hardening.test_csv_injection import live_cells
    for cells in (row_cells(_row(name=name, city=name), "USD"),
                  next(iter(csv_rows("USD")([_row(name=name, city=name)])))):
        assert cells[0] == "'" + name and cells[8] == name
        buffer = io.StringIO()
        csv.writer(buffer).writerow(cells)
        for separator in (",", ";", "\t"):
            assert live_cells(buffer.getvalue(), separator)[0] == [], separator


def test_none_is_an_empty_cell():
    assert neutralise(None) == ""


def test_lifetime_value_is_a_plain_number_even_when_negative():
    assert row_cells(_row(ltv=-300), "USD")[-1] == "-3.00"
    assert row_cells(_row(ltv=123450), "USD")[-1] == "1234.50"
    assert row_cells(_row(ltv=123456789), "USD")[-1] == "1234567.89"
    assert row_cells(_row(ltv=1500), "JPY")[-1] == "1500"


def test_country_is_its_english_name_and_unknown_codes_stay():
    assert row_cells(_row(country="DE"), "USD")[11] == "Germany"
    assert row_cells(_row(country="XX"), "USD")[11] == "XX"
    assert row_cells(_row(country=None), "USD")[11] == ""


def test_every_field_round_trips_through_the_csv_reader():
    tricky = _row(name='Zoë "Z" Ångström, PhD', email="zoe@example.com",
                  company="Line one\nline two\r\nline three", company_id="ID,1",
                  company_email="a@b.c", tax_id='""', phone="+1 555 0100",
                  address="Straße 1 😀", city="São Paulo", state="", postal_code="01001-000",
                  country="BR", vat_number="-DE123", ltv=-1)
    cells = row_cells(tricky, "USD")
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, cells])
    rows = _parse(buffer.getvalue())
    assert rows == [HEADER, cells]
    assert rows[1][0] == 'Zoë "Z" Ångström, PhD'
    assert rows[1][2] == "Line one\nline two\r\nline three"
    assert rows[1][6] == "+1 555 0100" and rows[1][12] == "'-DE123"
    assert rows[1][11] == "Brazil" and rows[1][13] == "-0.01"


def test_selected_ids_keep_plain_numbers_only():
    raw = ["3", "1", "abc", "", "1 OR 1=1", "-4", "²", "٣", "2.5", "3", "9" * 19, "12"]
    assert selected_ids(raw) == [1, 3, 12]


def test_file_name_is_todays_utc_date():
    assert export_filename(datetime(2026, 3, 9, 23, 59, tzinfo=timezone.utc)) == \
        "customers-2026-03-09.csv"
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert export_filename() in (f"customers-{today}.csv",
                                 f"customers-{datetime.now(timezone.utc):%Y-%m-%d}.csv")
