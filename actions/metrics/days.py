"""Figures per store-local day, computed from the ledger (docs/METRICS.md).

One sweep over the MRR spans in time order keeps each customer's MRR; at each day's end it
classifies every customer whose MRR moved that day (new, reactivation, expansion,
contraction, churn) and adds the day's settled payments, refunds and disputes. `rebuild`
runs it from the first day of the ledger; `refresh` runs it only from the earliest instant a
change touched (or the last day stored), starting from the stored day before and the MRR of
just the customers that moved: both give the same rows (tests/integration/test_metrics.py).
"""
from bisect import bisect_right
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import case, delete, func, insert, select, text, union

from actions.locks import _take_sqlite_write_lock
from models import Dispute, MetricsDay, MetricsTouch, MrrSpan, Refund, Transaction, db
from models.dates import day_end, day_start, store_day
from models.metrics import DAY_FIGURES

CHUNK = 1000  # customers per IN (...) list


def classify(old, new, seen):
    """The movement of a customer's MRR from old to new over a day: (kind, cents)."""
    if old == new:
        return None, 0
    if old == 0:
        return ("reactivation" if seen else "new"), new
    if new == 0:
        return "churn", old
    return ("expansion", new - old) if new > old else ("contraction", old - new)


class Sweep:
    """Customers' MRR carried from day to day. `complete`: it holds every customer (a
    rebuild from the first day); otherwise the customers a window moves are read from the
    spans at the window's start."""

    def __init__(self, tz, store, mrr=0, subscribers=0, complete=True):
        self.tz, self.store, self.complete = tz, store, complete
        self.mrr, self.subscribers = mrr, subscribers
        self.cur, self.seen = {}, set()

    def run(self, first, last, now):
        """Rows (dicts) for the days first..last, taken at the day's end or `now`."""
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        cuts = [min(day_end(day, self.tz), now) for day in days]
        start, end = day_start(first, self.tz), cuts[-1]
        events = self._events(start, end)
        if not self.complete:
            self._load(start, {customer for _, customer, _ in events} - set(self.cur))
        by_day = defaultdict(list)
        for when, customer, delta in events:
            by_day[bisect_right(cuts, when)].append((customer, delta))
        money = self._money(start, end, cuts)
        return [self._day(day, cuts[i], by_day.get(i, ()), money.get(i))
                for i, day in enumerate(days)]

    def _day(self, day, cut, moves, money):
        row = dict.fromkeys(DAY_FIGURES, 0)
        delta, started = defaultdict(int), set()
        for customer, cents in moves:
            delta[customer] += cents
            if cents > 0:
                started.add(customer)
        for customer, cents in delta.items():
            old = self.cur.get(customer, 0)
            new = old + cents
            kind, moved = classify(old, new, customer in self.seen)
            if kind:
                row[f"{kind}_cents"] += moved
                row[f"{kind}_count"] += 1
            self.mrr += cents
            self.subscribers += (new > 0) - (old > 0)
            if new:
                self.cur[customer] = new
            else:
                self.cur.pop(customer, None)
        self.seen |= started
        row.update(money or {})
        row.update(day=day, computed_until=cut, mrr_cents=self.mrr,
                   subscribers=self.subscribers)
        return row

    def _events(self, start, end):
        """(instant, customer, +/- cents) of the spans starting or ending in [start, end)."""
        S, counted = MrrSpan, MrrSpan.mrr_cents > 0
        rows = [(s, c, v) for s, c, v in db.session.execute(
            select(S.starts_at, S.customer_id, S.mrr_cents)
            .where(counted, S.starts_at >= start, S.starts_at < end))]
        rows += [(e, c, -v) for e, c, v in db.session.execute(
            select(S.ends_at, S.customer_id, S.mrr_cents)
            .where(counted, S.ends_at >= start, S.ends_at < end))]
        rows.sort(key=lambda row: (row[0], row[1]))
        return rows

    def _load(self, start, customers):
        """MRR at `start` of customers not held yet, and which had counted before it: one
        aggregate per CHUNK customers over their counted spans begun before `start`."""
        S = MrrSpan
        customers = sorted(customers)
        at_start = func.sum(case((S.ends_at.is_(None) | (S.ends_at >= start), S.mrr_cents),
                                 else_=0))
        for n in range(0, len(customers), CHUNK):
            part = customers[n:n + CHUNK]
            for customer, cents in db.session.execute(
                    select(S.customer_id, at_start)
                    .where(S.customer_id.in_(part), S.mrr_cents > 0, S.starts_at < start)
                    .group_by(S.customer_id)):
                self.seen.add(customer)
                if cents:
                    self.cur[customer] = self.cur.get(customer, 0) + int(cents)

    def _money(self, start, end, cuts):
        """{day index: {payments_cents, ...}} of the money in [start, end): settled payments,
        succeeded refunds and lost disputes in the store currency (the lifetime-value rule),
        and every dispute opened. Summed by the database per day (a day's index: how many
        cuts are at or before the instant, as bisect_right counts them), not row by row in
        Python: today alone is tens of thousands of rows at 1M customers."""
        store, out = self.store, defaultdict(lambda: defaultdict(int))
        T, R, D = Transaction, Refund, Dispute
        lost = ((D.status == "lost") & (D.settlement_currency == store)
                & D.settlement_cents.is_not(None))
        queries = (
            (T.created_at, (("payments_cents", func.sum(T.settlement_cents)),
                            ("payment_count", func.count())),
             (T.status == "succeeded", T.settlement_currency == store,
              T.settlement_cents.is_not(None))),
            (R.created_at, (("refunds_cents", func.sum(R.settlement_cents)),
                            ("refund_count", func.count())),
             (R.status == "succeeded", R.settlement_currency == store,
              R.settlement_cents.is_not(None))),
            (D.created_at, (("disputes_lost_cents",
                             func.sum(case((lost, D.settlement_cents), else_=0))),
                            ("dispute_lost_count", func.sum(case((lost, 1), else_=0))),
                            ("dispute_count", func.count())), ()),
        )
        for when, figures, where in queries:
            names = [name for name, _ in figures]
            for bucket, *values in per_window(when, start, end, cuts,
                                              [f for _, f in figures], where):
                day = out[bucket]
                for name, total in zip(names, values):
                    if total:
                        day[name] += int(total)
        return out


def per_window(when, start, end, cuts, figures, where):
    """[(day index, *figures)] over the rows whose `when` is in [start, end), grouped by day:
    a row's index is how many of `cuts` are at or before its `when` (bisect_right), written
    as a CASE so that SQLite and PostgreSQL compute it alike (no time zone arithmetic in
    SQL: the cuts are the store's day ends, computed in Python)."""
    where = (when >= start, when < end, *where)
    if len(cuts) == 1:  # one day: no CASE, no GROUP BY
        return [(0, *db.session.execute(select(*figures).where(*where)).one())]
    bucket = case(*[(when < cut, n) for n, cut in enumerate(cuts[:-1])],
                  else_=len(cuts) - 1)
    # GROUP BY the select list's first column: PostgreSQL would not take the CASE, written
    # again with new bound parameters, as the same expression
    return db.session.execute(select(bucket, *figures).where(*where)
                              .group_by(text("1"))).all()


def first_instant():
    """The earliest instant the ledger holds (None: nothing yet)."""
    found = [db.session.scalar(select(func.min(column))) for column in (
        MrrSpan.starts_at, Transaction.created_at, Refund.created_at, Dispute.created_at)]
    found = [when for when in found if when is not None]
    return min(found) if found else None


def _lock():
    """One refresh at a time (PostgreSQL: an advisory lock; SQLite: its write lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(19_000_019)))
    else:
        _take_sqlite_write_lock()


def _write(rows, first):
    db.session.execute(delete(MetricsDay).where(MetricsDay.day >= first))
    if rows:
        db.session.execute(insert(MetricsDay), rows)


def stale_from(now, tz):
    """The first day a refresh must recompute, or None when the stored days are current."""
    today = store_day(now, tz)
    last = db.session.execute(select(MetricsDay.day, MetricsDay.computed_until)
                              .order_by(MetricsDay.day.desc()).limit(1)).first()
    # a touch at `now` or later moves nothing before `now`: it waits for a later refresh
    touched = db.session.scalar(select(func.min(MetricsTouch.at)).where(MetricsTouch.at < now))
    if last is None:
        began = first_instant()
        return None if began is None else min(store_day(began, tz), today)
    first = None
    if last.day < today:
        first = last.day
    elif last.computed_until < now and db.session.scalar(select(MrrSpan.id).where(
            MrrSpan.ends_at >= last.computed_until, MrrSpan.ends_at < now).limit(1)):
        first = last.day  # an end of access scheduled earlier has passed since
    if touched is not None:
        first = min(first or today, store_day(touched, tz))
    return first


def refresh(now, tz, store):
    """Recompute the days a change touched since the last refresh, and today; commit.
    Returns the first day recomputed (None: nothing was stale)."""
    if stale_from(now, tz) is None:
        return None
    _lock()
    first = stale_from(now, tz)  # again, under the lock: another refresh may have run
    if first is None:
        db.session.rollback()
        return None
    # the touches this refresh answers for, read before the ledger: a change committed while
    # it runs keeps its touch for the next refresh, and so does one at `now` or later (a
    # change made after this refresh began, while it waited for the lock: its spans start
    # after the instant the figures are taken at, and nothing else would say so)
    touches = db.session.execute(
        select(MetricsTouch.id, MetricsTouch.at, MetricsTouch.money)
        .where(MetricsTouch.at < now)).all()
    today = store_day(now, tz)
    carried = _carry_on_days(touches, now, tz)
    if carried is not None:
        # nothing in the ledger moved before the last refresh: carry its day on (summing
        # again the money of the days a payment dated before it touched), then sweep the
        # days after it (the first Home of a day: since midnight only)
        stored, again = carried
        last = stored.day
        for row in again:
            if row.day < last:
                _set_money(row, Sweep(tz, store)._money(
                    day_start(row.day, tz), day_end(row.day, tz), [day_end(row.day, tz)]))
        carry_on(stored, min(day_end(last, tz), now), tz, store,
                 money_again=any(row.day == last for row in again))
        if last < today:
            sweep = Sweep(tz, store, stored.mrr_cents, stored.subscribers, complete=False)
            _write(sweep.run(last + timedelta(days=1), today, now), last + timedelta(days=1))
    else:
        _recompute(first, today, now, tz, store)
    ids = [id_ for id_, _, _ in touches]
    for n in range(0, len(ids), CHUNK):
        db.session.execute(delete(MetricsTouch).where(MetricsTouch.id.in_(ids[n:n + CHUNK])))
    db.session.commit()
    return first


def _carry_on_days(touches, now, tz):
    """(the last stored day's row, [rows of the days whose money is summed again]) when the
    last refresh can be carried on: the ledger's touches are all at or after it, and a
    payment's, refund's or dispute's before it fall on stored days; else None."""
    last = db.session.scalar(select(func.max(MetricsDay.day)))
    stored = None if last is None else db.session.get(MetricsDay, last, populate_existing=True)
    if stored is None or stored.computed_until > now:
        return None
    cut = stored.computed_until
    if any(at < cut for _, at, money in touches if not money):
        return None
    days_ = sorted({store_day(at, tz) for _, at, money in touches if money and at < cut})
    rows = [stored if day == last else db.session.get(MetricsDay, day, populate_existing=True)
            for day in days_]
    if any(row is None for row in rows):
        return None
    return stored, rows


MONEY = ("payments_cents", "payment_count", "refunds_cents", "refund_count",
         "disputes_lost_cents", "dispute_lost_count", "dispute_count")


def _set_money(row, money):
    """A day's money figures, replaced by {day index: figures}[0] of Sweep._money."""
    figures = money.get(0, {})
    for name in MONEY:
        setattr(row, name, figures.get(name, 0))


def _recompute(first, today, now, tz, store):
    """The days first..today again, from the day before's stored figures (or from the
    ledger's first day when none is stored)."""
    prev = db.session.get(MetricsDay, first - timedelta(days=1))
    if prev is None:  # nothing stored before it: from the ledger's first day
        began = first_instant()
        first = min(first, store_day(began, tz)) if began else first
        sweep = Sweep(tz, store)
    else:
        sweep = Sweep(tz, store, prev.mrr_cents, prev.subscribers, complete=False)
    rows = sweep.run(first, max(today, first), now)
    _write(rows, first)


def carry_on(stored, now, tz, store, money_again=False):
    """A day's stored figures, taken at `cut` (stored.computed_until), carried on to `now`
    (at most the day's end) when nothing in the ledger has changed before `cut` since (its
    touches are all at `cut` or later): only the customers whose MRR moved in [cut, now)
    are classified again, and only the money of [cut, now) is added (`money_again`: a
    payment dated before `cut` arrived, the day's money is summed again whole), instead of
    all of the day's (tens of thousands of span changes and payments at 1M customers).

    The same figures as a recompute of the day: a customer's movement of the day is
    classify(MRR at the day's start, MRR at its end); for a customer who moved since `cut`
    the stored row holds classify(start, at cut), which is taken out, and
    classify(start, at now) is put in; the other customers' MRR at now is their MRR at cut.
    A change to the ledger writes its spans at the instant it touches (models/mrr.py: a span
    starts or ends then, or an end still to come moves), so nothing before `cut` moved."""
    cut, start = stored.computed_until, day_start(stored.day, tz)
    money = None  # read all, then write (no autoflush in between)
    if money_again:
        money = Sweep(tz, store)._money(start, now, [now])
    elif cut < now:
        money = Sweep(tz, store)._money(cut, now, [now])
    changes = moved(start, cut, now) if cut < now else []
    for _customer, old, mid, new, seen in changes:
        old, mid, new = int(old), int(mid), int(new)
        for sign, value in ((-1, mid), (1, new)):
            kind, cents = classify(old, value, bool(seen))
            if kind:
                _add(stored, f"{kind}_cents", sign * cents)
                _add(stored, f"{kind}_count", sign)
        stored.mrr_cents += new - mid
        stored.subscribers += (new > 0) - (mid > 0)
    if money_again:
        _set_money(stored, money)
    elif money is not None:
        for name, value in money.get(0, {}).items():
            _add(stored, name, value)
    stored.computed_until = now


def _add(row, name, value):
    setattr(row, name, getattr(row, name) + value)


def moved(start, cut, end):
    """[(customer, MRR at start, at cut, at end, had MRR before start)] of the customers
    whose MRR moved in [cut, end) (a counted span starting or ending in it). A customer's
    MRR at an instant: their counted spans started before it and not ended before it (a
    change at the instant itself belongs to what follows, as in the sweep).

    The customers first, then their spans by customer in lists of CHUNK: one statement
    joining the two let PostgreSQL, misjudging how few customers move, scan every span."""
    S, counted = MrrSpan, MrrSpan.mrr_cents > 0
    customers = sorted(set(db.session.scalars(union(
        select(S.customer_id).where(counted, S.starts_at >= cut, S.starts_at < end),
        select(S.customer_id).where(counted, S.ends_at >= cut, S.ends_at < end)))))

    def at(instant):
        return func.coalesce(func.sum(case((
            (S.starts_at < instant) & (S.ends_at.is_(None) | (S.ends_at >= instant)),
            S.mrr_cents), else_=0)), 0)
    rows = []
    for n in range(0, len(customers), CHUNK):
        rows += db.session.execute(
            select(S.customer_id, at(start), at(cut), at(end),
                   func.max(case((S.starts_at < start, 1), else_=0)))
            .where(counted, S.customer_id.in_(customers[n:n + CHUNK]))
            .group_by(S.customer_id)).all()
    return rows


def rebuild(now, tz, store, progress=None, days_per_step=31):
    """Recompute every day from the ledger's first day; `progress(n)` after each n days.
    Returns the number of days written. Commits."""
    began = first_instant()
    _lock()
    db.session.execute(delete(MetricsTouch))
    db.session.execute(delete(MetricsDay))
    if began is None:
        db.session.commit()
        return 0
    first, today = store_day(began, tz), store_day(now, tz)
    sweep, written, day = Sweep(tz, store), 0, first
    while day <= today:
        last = min(day + timedelta(days=days_per_step - 1), today)
        rows = sweep.run(day, last, now)
        db.session.execute(insert(MetricsDay), rows)
        written += len(rows)
        if progress:
            progress(len(rows))
        day = last + timedelta(days=1)
    db.session.commit()
    return written


def total_days(now, tz):
    """How many days a rebuild writes (for its progress bar)."""
    began = first_instant()
    return 0 if began is None else (store_day(now, tz) - store_day(began, tz)).days + 1
