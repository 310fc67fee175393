"""CSV export of customers: a query in, CSV text chunks out, streamed from the database;
export_customers() checks the permission and audits each export when its stream ends."""
import csv
import gc
import io
import re
from contextlib import closing
from datetime import datetime, timezone
from functools import lru_cache
from itertools import chain
from operator import itemgetter

from babel.numbers import get_currency_precision
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.permissions import require
from models import AuditEvent, Customer, db
from models.country import country_name
from models.customer import DETAIL_FIELDS
from models.money import plain_amount
from models.queries.customer_search import plan_search

BATCH_SIZE = 2000
HEADER = [label for _, label in DETAIL_FIELDS] + ["Lifetime Value"]
# Table columns, not the mapped attributes: the rows come as plain tuples from the cursor,
# not through the ORM's row loading (about 3 µs a row).
COLUMNS = [Customer.__table__.c[name] for name, _ in DETAIL_FIELDS] + [
    Customer.__table__.c.lifetime_value_cents]
FIELDS = [name for name, _ in DETAIL_FIELDS]
COUNTRY, PHONE, LTV = FIELDS.index("country"), FIELDS.index("phone"), len(FIELDS)
# OWASP CSV injection: a spreadsheet evaluates a cell that starts with one of these (also the
# full-width forms Excel reads in East Asian locales), also after blanks. A file may be opened
# with ',', ';' or tab as the separator, so every piece of a cell that follows one of those
# can be a cell start too: each such piece is neutralised on its own (a quote in front of
# the whole cell does not protect "a;=1+1" read with ';').
TRIGGERS = "=+\\-@\uff1d\uff0b\uff0d\uff20"
BLANKS = " \u00a0\u3000"
# Where a spreadsheet may start a new cell inside ours: the separators, and line breaks (a
# quoted line break is a new row when the file is split with another separator).
SEPARATORS = ",;\t\r\n"
RISKY = re.compile(f'(?:^|[{SEPARATORS}])[{BLANKS}"]*[{TRIGGERS}]|^[\t\r\n]')
PIECES = re.compile(f"([{SEPARATORS}])")
# a piece is risky also behind quotes: read with another separator, a piece that starts with
# '"' is a quoted cell whose text starts after the quote
RISKY_START = re.compile(f'[{BLANKS}"]*[{TRIGGERS}]')
# A phone number or a number: a leading + or - and then only digits, spaces, dots, dashes and
# parentheses. Such a cell cannot call anything and is written as the database has it.
PLAIN_NUMBER = re.compile(r"[+-][0-9 .()-]*[0-9][0-9 .()-]*")
# The quick check of many cells at once (a batch of rows, else a row): their text joined with
# line breaks, each cell after one, in UTF-8 with every separator made a line break, spaces and
# quotes dropped and every trigger made '='. A cell needs a quote only if a piece of it starts
# with a trigger after blanks or quotes (then "\n=" appears: a non-ASCII blank or trigger
# starts with byte C2, E3 or EF, which become '=' too) or it starts with a tab or line break
# ("\n\n"). Other text may show these too; it then goes through neutralise as before.
QUICK_TRIGGERS = b"=+-@\xc2\xe3\xef"
QUICK = bytes.maketrans(SEPARATORS.encode() + QUICK_TRIGGERS,
                        b"\n" * len(SEPARATORS) + b"=" * len(QUICK_TRIGGERS))
assert {ch.encode()[:1] for ch in TRIGGERS.replace("\\", "") + BLANKS[1:]} <= set(
    QUICK_TRIGGERS[i:i + 1] for i in range(len(QUICK_TRIGGERS)))
# a phone cell written as it is: a plain number, or no trigger, tab or line break in it
PHONE_OK = re.compile(f"{PLAIN_NUMBER.pattern}|[^{TRIGGERS}\t\r\n]*").fullmatch


def quiet(texts):
    """True when no text of `texts` (strings) has a piece neutralise() would quote."""
    flat = ("\n" + "\n".join(texts)).encode("utf-8", "surrogatepass").translate(QUICK, b' "')
    return b"\n=" not in flat and b"\n\n" not in flat


BOM = "\ufeff"
MAX_ID_DIGITS = 18  # stays inside a signed 64-bit primary key


def export_filename(now=None):
    """'customers-2026-01-31.csv' for today in UTC."""
    return f"customers-{(now or datetime.now(timezone.utc)):%Y-%m-%d}.csv"


def neutralise(text, *, row_start=False):
    """The cell text with a quote before each piece a spreadsheet could read as a formula:
    the cell's start, and every piece after a ',', ';' or tab; None -> ''.

    A plain number is left as it is, except in a row's first cell (`row_start`): a file split
    with ';' or tab reads the whole line as one cell ("-1,ada@example.com,..."), which is a
    formula when the line starts with a sign."""
    if text is None:
        return ""
    text = str(text)
    if not RISKY.search(text):
        return text
    if not row_start and PLAIN_NUMBER.fullmatch(text.strip(BLANKS + "\n")):
        return text
    pieces = PIECES.split(text)  # text, separator, text, separator, ...
    for i in range(0, len(pieces), 2):
        if RISKY_START.match(pieces[i]):
            pieces[i] = "'" + pieces[i]
    cell = "".join(pieces)
    return "'" + cell if cell[:1] in "\t\r\n" else cell


def selected_ids(raw_ids):
    """The bulk action's raw string ids as integers; anything not a plain number is dropped."""
    return sorted({int(i) for i in raw_ids
                   if i and i.isascii() and i.isdigit() and len(i) <= MAX_ID_DIGITS})


def export_statement(query):
    """The customers of an ORM query or select, keeping its filters and order, as bare columns."""
    if hasattr(query, "with_entities"):
        return query.with_entities(*COLUMNS).statement
    return query.with_only_columns(*COLUMNS)


_country = lru_cache(maxsize=1024)(country_name)


def row_cells(row, currency):
    """One row of string columns -> the CSV cells; Lifetime Value stays a plain number."""
    cells = [neutralise(value) for value in row[:-1]]
    cells[0] = neutralise(row[0], row_start=True)
    cells[COUNTRY] = neutralise(_country(row[COUNTRY]))
    cells.append(plain_amount(row[-1] or 0, currency))
    return cells


def amount_text(currency):
    """A function: minor units -> plain_amount's text ('-3.00', '1500'), without Decimal or
    Babel per call (the currency's precision is looked up once)."""
    precision = get_currency_precision(currency)
    scale = 10 ** precision

    def text(cents):
        cents = int(cents or 0)
        if not precision:
            return str(cents)
        units, minor = divmod(-cents if cents < 0 else cents, scale)
        return f"{'-' if cents < 0 else ''}{units}.{minor:0{precision}d}"
    return text


class _Memo(dict):
    """make(key) for a key not seen yet, keeping up to `size` results (memory stays flat)."""

    def __init__(self, make, size):
        super().__init__()
        self.make, self.size = make, size

    def __missing__(self, key):
        value = self.make(key)
        if len(self) < self.size:
            self[key] = value
        return value


# the text cells a row's quick check reads: all but the phone (checked alone: a phone number
# starts with '+') and the country (its name is neutralised once per code)
CHECKED = itemgetter(*(i for i in range(LTV) if i not in (PHONE, COUNTRY)))
HEAD = itemgetter(*range(COUNTRY))  # the cells before the country, as they are
PHONE_OF = itemgetter(PHONE)
assert LTV == COUNTRY + 2  # the VAT number between the country and the amount


def csv_rows(currency):
    """A function: database rows -> each row's CSV cells, exactly as row_cells gives them.

    When no cell of a batch needs a quote (one quick check of all their text, see QUICK), or
    else of a row, the row is written as the database has it, with its country name and
    amount from memos; any other row goes through row_cells."""
    names = _Memo(lambda code: neutralise(_country(code)), 1024)
    amounts = _Memo(amount_text(currency), 4096)
    tail = COUNTRY + 1  # the VAT number, after the country

    def plain(row):
        return HEAD(row) + (names[row[COUNTRY]], row[tail], amounts[row[LTV]])

    def cells(rows):
        if quiet(filter(None, chain.from_iterable(map(CHECKED, rows)))) and all(
                map(PHONE_OK, filter(None, map(PHONE_OF, rows)))):
            return map(plain, rows)
        return (plain(row) if quiet(filter(None, CHECKED(row))) and PHONE_OK(row[PHONE] or "")
                else row_cells(row, currency) for row in rows)
    return cells


def header_line(bom=False):
    """The header row as CSV text, with the UTF-8 byte order mark for Excel if asked."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(HEADER)
    return (BOM if bom else "") + buffer.getvalue()


def iter_csv(query, currency, *, bom=False, session=None, batch_size=BATCH_SIZE, progress=None):
    """Yield the CSV as text: the header, then one chunk per batch of `batch_size` rows."""
    # Rows stream from the database (a server-side cursor where the driver has one), so memory
    # stays flat whatever the row count; closing the generator (a client that went away)
    # closes the result. `progress(n)` hears the row count of each chunk.
    yield header_line(bom)
    statement = export_statement(query).execution_options(yield_per=batch_size)
    # on the session's connection: plain rows (the session would pass them through the ORM)
    result = (session or db.session).connection().execute(statement)
    # The rows of a batch outlive a few young collections, so every ~200,000 rows a full
    # collection walks the whole heap, the app's 100 MB of long-lived objects (at 1M rows 5 of
    # them, 1.25 of 7.2 s CPU): that heap is frozen (left out of the collector's walks) while
    # the rows stream, and put back when the export ends or stops.
    gc.freeze()
    try:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        cells = csv_rows(currency)
        for rows in result.partitions():
            writer.writerows(cells(rows))
            chunk = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(len(rows))
            yield chunk
    finally:
        gc.unfreeze()
        result.close()


SORTS = ("name", "email", "lifetime_value_cents")  # the columns the customers list sorts by


def customers_query(search=None, session=None, sort=None, sort_desc=False):
    """Every customer, or those the list's search finds, in the list's order: by a sortable
    column (the id breaking ties in the same direction), else newest first."""
    query = select(Customer)
    plan = plan_search(session or db.session, search, walkable=False)
    if plan is not None:
        query = query.where(plan.clause)
    if sort not in SORTS:
        return query.order_by(Customer.created_at.desc(), Customer.id.desc())
    column = getattr(Customer, sort)
    return query.order_by(*((column.desc(), Customer.id.desc()) if sort_desc
                            else (column, Customer.id)))


def count_rows(query, session=None):
    """How many customers an export of `query` writes."""
    if hasattr(query, "with_entities"):
        query = query.with_entities(Customer.id).statement
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return (session or db.session).scalar(counted)


def export_scope(search=None, filters=None, ids=None):
    """What an export covers, for its audit entry: all, search text, filters or ticked ids."""
    if ids is not None:
        return {"scope": "ids", "ids": list(ids)}
    scope = {"scope": "filters" if filters else "search" if search else "all"}
    if search:
        scope["search"] = search
    if filters:
        scope["filters"] = filters
    return scope


def describe_scope(scope):
    """'all customers', 'search “ali”', 'filters …', '3 ticked customers'."""
    if scope["scope"] == "ids":
        return f"{len(scope['ids'])} ticked customer(s)"
    parts = [f"search “{scope['search']}”"] if scope.get("search") else []
    parts += [" ".join(str(part) for part in flt) for flt in scope.get("filters", ())]
    return ", ".join(parts) or "all customers"


def export_customers(query, scope, actor, currency, *, bom=False, progress=None):
    """The CSV of `query` as text chunks, for an actor allowed to export.

    Refuses (NotAllowed) before anything is read. When the stream ends, one AuditEvent
    records who exported what (scope) and how many rows, in a short transaction of its own:
    outcome succeeded for a finished download, failed for one that stopped early."""
    require(actor, "export")
    who = {"actor_id": getattr(actor, "id", None), "actor_email": getattr(actor, "email", None)}
    return _audited_stream(query, scope, who, currency, bom, progress)


def _audited_stream(query, scope, who, currency, bom, progress):
    written, finished = [0], False

    def count(rows):
        written[0] += rows
        if progress:
            progress(rows)

    try:
        with closing(iter_csv(query, currency, bom=bom, progress=count)) as chunks:
            yield from chunks
        finished = True
    finally:
        _audit_export(who, scope, written[0], finished)


def _audit_export(who, scope, rows, finished):
    what = describe_scope(scope)
    message = (f"Exported {rows} customer(s): {what}." if finished else
               f"Export of {what} stopped after {rows} customer(s).")
    with Session(db.engine) as session, session.begin():
        session.add(AuditEvent(**who, action="customers.export", target_type="customer",
                               target_id=None, after={**scope, "rows": rows},
                               outcome="succeeded" if finished else "failed", message=message))
