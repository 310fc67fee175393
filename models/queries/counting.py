"""Counting list queries at scale: exact when cheap, estimated or a lower bound otherwise."""
from sqlalchemy import func, select, text

# Lists count their rows exactly up to this many (a count(*) over a LIMIT, both databases).
# Past it: "about N" from the database's statistics for the whole table (both databases) and
# for a search or filter (PostgreSQL's planner estimate), "10,000+" for a search or filter on
# SQLite.
COUNT_CAP = 10_000


class ListCount(int):
    """The number for the "List (N)" tab, the pager and the export button, exact or not."""

    # The int value drives Flask-Admin's pager; `shown` is the number written, with "about"
    # for an estimate and "+" for a lower bound.

    def __new__(cls, value, kind="exact", shown=None):
        obj = super().__new__(cls, value)
        obj.kind = kind  # "exact", "about" (an estimate) or "at_least" (a lower bound)
        obj.shown = value if shown is None else shown
        return obj

    @property
    def exact(self):
        return self.kind == "exact"

    def __format__(self, spec):
        number = format(int(self.shown), spec)
        return {"about": f"about {number}", "at_least": f"{number}+"}.get(self.kind, number)

    def __str__(self):
        return format(self, ",")


def at_least(seen, page_size, rows_on_page):
    """A lower bound that still lets the pager offer the next page when this one is full."""
    return ListCount(seen + (1 if rows_on_page == page_size else 0), "at_least", seen)


def estimate_rows(session, table):
    """Rows in a whole table from the database's bookkeeping (no scan); None if unknown."""
    # PostgreSQL: pg_class.reltuples, kept up to date by (auto)ANALYZE/VACUUM (-1 before the
    # first one). SQLite: max(rowid) - min(rowid) + 1, two B-tree seeks; deleted rows make it
    # an overestimate, which is fine for "about".
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        value = session.execute(_RELTUPLES, {"name": f'"{table.name}"'}).scalar()
        return int(value) if value is not None and value >= 0 else None
    if dialect == "sqlite":
        return int(session.execute(_rowid_span(table)).scalar() or 0)
    return None


_RELTUPLES = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)")
_ROWID_SPANS = {}


def _rowid_span(table):
    """SELECT max(pk) - min(pk) + 1, built once per table (every list page asks; building it
    cost more than SQLite's two seeks). One aggregate per SELECT, or SQLite scans instead of
    seeking."""
    statement = _ROWID_SPANS.get(table)
    if statement is None:
        pk = list(table.primary_key.columns)[0]
        highest, lowest = (select(agg(pk)).scalar_subquery() for agg in (func.max, func.min))
        statement = _ROWID_SPANS[table] = select(highest - lowest + 1)
    return statement


def _rows_query(query, model):
    """The list query's rows as ids: no order, no page, no eager loads."""
    return (query.limit(None).offset(None).order_by(None).enable_eagerloads(False)
            .with_entities(model.id))


def planner_rows(query, model):
    """PostgreSQL's own estimate of the rows a list query matches (planning only, no scan)."""
    conn = query.session.connection()
    compiled = _rows_query(query, model).statement.compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
    return int(plan[0]["Plan"]["Plan Rows"])


def capped_count(query, model, limit):
    """count(*) of the list query's rows, reading at most `limit` of them."""
    rows = _rows_query(query, model).limit(limit).subquery()
    return query.session.execute(select(func.count()).select_from(rows)).scalar()
