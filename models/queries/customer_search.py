"""Customer search by any fragment of name or email, answered from the trigram indexes."""
# Semantics (unchanged): the search box is split on spaces; every term must occur, in any case,
# somewhere in the name or the email. `%`, `_`, `*`, quotes are plain characters.
#
# PostgreSQL: `lower(col) LIKE lower('%term%')`, the expressions of the pg_trgm GIN indexes of
# migration 0002. The pattern is a bound parameter (never written into the SQL). The planner
# still sees its value: statements are not prepared server-side (psycopg's prepare_threshold
# is off, admin_app/config.py), so each one is planned as an unnamed statement with its
# parameters; it takes the index for a rare fragment and walks the sort index for a common
# one, and a plan made for one term is never reused for another. A term with an email
# domain looks the index up by the part before "@" only: the domain's trigrams are shared by
# most customers and their long posting lists made an exact-email search cost ~37 ms at 1M
# customers instead of ~4 ms; strpos() then checks the whole term on the few rows found.
#
# SQLite: a term of 3+ characters can be looked up in the FTS5 trigram table customer_search
# (MATCH on the term as a quoted phrase, so quotes, `*`, `AND`, `NEAR(` are only text). Which
# way is faster depends on how common the term is (measured at 1M customers):
# - the FTS lookup costs ~4 us per matching customer (collect the ids, fetch the rows, sort
#   them): 5 ms for "yamam" (1,450 matches), 63 ms for "smith" (20,000), 0.8 s for
#   "@example.com" (440,000);
# - walking the list's sort index and testing each row stops after one page of matches and
#   costs ~0.6 us per row read, i.e. (offset + page size) x customers / matches rows:
#   1.4 ms for "smith", 0.2 ms for "@example.com", 26 ms for "yamam", all rows if none match.
# A capped count of each term's FTS matches picks the cheaper way for the page asked for (see
# walk_threshold); the rarest term is looked up, the others tested on the rows it finds. When
# the list is sorted by a column without an index (name, email) there is no walk: the lookup.
# Outside the lookup, rows are tested with GLOB and a per-letter [xX] pattern rather than
# LIKE, because SQLite's LIKE and lower() fold ASCII letters only and the FTS5 tokenizer folds
# all of Unicode: both ways give the same rows ("álvarez" finds "Álvarez").
from math import sqrt

from sqlalchemy import String, and_, bindparam, column, func, literal_column, or_, select, table

from models.queries.counting import COUNT_CAP, estimate_rows
from models import Customer

INDEX_MIN = 3  # a fragment shorter than a trigram cannot use the trigram indexes
# Cost of testing one row during the walk / of one FTS match (measured, see above).
WALK_COST_RATIO = 0.6 / 4
SEARCH_TABLE = table("customer_search", column("rowid"))
COLUMNS = (Customer.name, Customer.email)


class SearchPlan:
    """The WHERE clause of a search and what is known of its count without counting."""

    # count: exact number of matches, or with at_least a lower bound; countable=False when a
    # count would have to scan the table (the list then shows "N+" from the page it has).

    def __init__(self, clause, count=None, at_least=False, countable=True, counted_by=None):
        self.clause, self.count, self.at_least, self.countable = (clause, count, at_least,
                                                                  countable)
        # SQLite: (rarest term, clauses of the others), to count the matches from the FTS
        # table (streamed, stops at the LIMIT) when the page itself walks the sort index.
        self.counted_by = counted_by

    @property
    def exact(self):
        return self.count is not None and not self.at_least

    def count_query(self, session):
        """The matching customers for a capped count, found the cheap way; None: the list's."""
        if self.counted_by is None:
            return None
        term, others = self.counted_by
        return (session.query(Customer).join(SEARCH_TABLE, SEARCH_TABLE.c.rowid == Customer.id)
                .filter(fts_match(term), *others))


def split_terms(search):
    """The search box's terms, as Flask-Admin splits them, without repeats."""
    return list(dict.fromkeys(term for term in (search or "").split(" ") if term))


def _param(value):
    return bindparam(None, value, type_=String())


def like_pattern(term):
    """'%term%' with the LIKE wildcards and the escape character made literal."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def like_clause(term):
    """The term in lower(name) or lower(email) (PostgreSQL and other databases)."""
    pattern = func.lower(_param(like_pattern(term)))
    return or_(*(func.lower(col).like(pattern, escape="\\") for col in COLUMNS))


def index_key(term):
    """The part of a term worth an index lookup: an email's local part when it has one."""
    local = term.split("@", 1)[0]
    return local if "@" in term and len(local) >= INDEX_MIN else term


def postgresql_clause(term):
    key = index_key(term)
    if key == term:
        return like_clause(term)
    whole = func.lower(_param(term))
    key_pattern = func.lower(_param(like_pattern(key)))
    return or_(*(and_(func.lower(col).like(key_pattern, escape="\\"),
                      func.strpos(func.lower(col), whole) > 0) for col in COLUMNS))


def glob_pattern(term):
    """A GLOB pattern matching the term anywhere, in any case: 'Ab*' -> '*[Aa][Bb][*]*'."""
    out = []
    for char in term:
        cases = sorted({c for c in (char, char.lower(), char.upper()) if len(c) == 1})
        out.append(f"[{''.join(cases)}]" if len(cases) > 1 or char in "*?[" else char)
    return "*" + "".join(out) + "*"


def glob_clause(term):
    """The term in name or email, in any case (SQLite, without the index)."""
    pattern = _param(glob_pattern(term))
    return or_(*(col.op("GLOB")(pattern) for col in COLUMNS))


def fts_match(term):
    """customer_search MATCH the term as one quoted phrase."""
    phrase = '"' + term.replace('"', '""') + '"'
    return literal_column("customer_search").op("MATCH")(_param(phrase))


def fts_matches(session, term, cap):
    """How many customers contain the term, counting no further than cap."""
    phrase = '"' + term.replace('"', '""') + '"'  # as fts_match quotes it
    return session.execute(_FTS_COUNT, {"phrase": phrase, "cap": cap}).scalar()


# fts_matches' statement, built once (every searched page asks it for each term; issue 22)
_FTS_COUNT = select(func.count()).select_from(
    select(SEARCH_TABLE.c.rowid)
    .where(literal_column("customer_search").op("MATCH")(bindparam("phrase", type_=String())))
    .limit(bindparam("cap")).subquery())


def walk_threshold(session, offset, page_size):
    """Matches from which walking the sort index beats the FTS lookup, for this page."""
    # Walk ~ (offset + page_size) * customers / matches * 0.6 us, lookup ~ matches * 4 us:
    # equal at sqrt((offset + page_size) * customers * 0.15), rounded up to two digits
    # (2,800 for the first page at 1M customers).
    customers = estimate_rows(session, Customer.__table__) or 0
    value = max(int(sqrt((offset + page_size) * customers * WALK_COST_RATIO)), INDEX_MIN)
    step = 10 ** max(len(str(value)) - 2, 0)
    return -(-value // step) * step


def plan_search(session, search, offset=0, page_size=50, walkable=True):
    """The search as a WHERE clause on customer, using the database's index where it pays."""
    # walkable: the list is sorted on an indexed column (created_at, lifetime value); False
    # for other sorts and for the export (all rows: a walk would read the whole table).
    terms = split_terms(search)
    if not terms:
        return None
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return SearchPlan(and_(*(postgresql_clause(t) for t in terms)))
    if dialect != "sqlite":
        return SearchPlan(and_(*(like_clause(t) for t in terms)))
    indexed = [t for t in terms if len(t) >= INDEX_MIN]
    if not indexed:  # one or two letters: the walk, with a count from the page
        return SearchPlan(and_(*(glob_clause(t) for t in terms)), countable=False)
    cap = walk_threshold(session, offset, page_size) if walkable else COUNT_CAP
    matches = {t: fts_matches(session, t, cap) for t in indexed}
    rarest = min(indexed, key=matches.get)
    single = len(terms) == 1
    others = [glob_clause(t) for t in terms if t != rarest]
    if walkable and matches[rarest] >= cap:  # common fragment(s): walk the sort index
        return SearchPlan(and_(*(glob_clause(t) for t in terms)), cap if single else None,
                          at_least=True, counted_by=(rarest, others))
    lookup = Customer.id.in_(select(SEARCH_TABLE.c.rowid).where(fts_match(rarest)))
    return SearchPlan(and_(lookup, *others), matches[rarest] if single else None,
                      at_least=matches[rarest] >= cap, counted_by=(rarest, others))
