"""The MRR rule (docs/METRICS.md) and the one place that keeps its ledger, models.MrrSpan.

A subscription adds to MRR while it gives access (models/access.py) and is neither trialing
nor paused: its price (what a cycle costs today: before a change scheduled for the next
renewal, until that renewal is seen) normalised to a month (yearly / 12, quarterly / 3, weekly x 52 / 12,
daily x 365 / 12, the interval count respected), in the store currency; a subscription in
another currency at the rate of its last settled payment (settlement / amount), with no such
payment yet: listed apart (mrr_cents NULL), never added. One rounding per subscription, half
up, to whole minor units; everything else is a sum or a difference of those integers.

An `after_flush` hook on every SQLAlchemy session (keep_ledger, registered by name in
models/__init__.py) writes the spans, so whatever changes a subscription (an admin's action,
a webhook, the sync, a test's factory) keeps the ledger in the same transaction. Core bulk writes (the seed's COPY) bypass it: `flask metrics rebuild`
fills in the subscriptions the ledger has not seen yet.
"""
from itertools import chain

from sqlalchemy import insert, select, update, delete

from models._types import utcnow
from models.access import LIVE_STATUSES, access_ends_at, has_access
from models.metrics import MetricsTouch, MrrSpan
from models.subscription import Subscription
from models.transaction import Refund, Transaction
from models.webhook import Dispute

#: interval -> (multiplier, divisor) to a month, before the interval count divides it
PER_MONTH = {"day": (365, 12), "week": (52, 12), "month": (1, 1), "year": (1, 12)}
#: the store currency the hook converts into (set by create_app from STORE_CURRENCY)
STORE = {"currency": "USD"}
SPAN_FIELDS = ("mrr_cents", "native_cents", "currency")


def set_store_currency(currency):
    STORE["currency"] = currency


def half_up(numerator, denominator):
    """numerator / denominator rounded half up (both >= 0, denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def monthly(price_cents, interval, interval_count, rate=(1, 1)):
    """The price normalised to a month, times rate = (settled, paid), rounded once."""
    mult, div = PER_MONTH[interval]
    settled, paid = rate
    return half_up(price_cents * mult * settled, div * max(interval_count, 1) * paid)


def counts_now(sub, now):
    """Whether the subscription adds to MRR at `now`."""
    return has_access(sub, now) and sub.status != "trialing" and not sub.paused


def rate_of(conn, sub_id, store):
    """(settlement, amount) of the subscription's last settled payment in the store
    currency, or None."""
    row = conn.execute(
        select(Transaction.settlement_cents, Transaction.amount_cents)
        .where(Transaction.subscription_id == sub_id, Transaction.status == "succeeded",
               Transaction.settlement_currency == store,
               Transaction.settlement_cents.is_not(None), Transaction.amount_cents > 0)
        .order_by(Transaction.created_at.desc(), Transaction.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def charged(sub):
    """What a cycle costs the customer today: the price before a change scheduled for the
    next renewal (Subscription.charged_cents, also for a Core row)."""
    if sub.price_from is not None and sub.price_before_cents is not None:
        return sub.price_before_cents
    return sub.price_cents


def value(conn, sub, store):
    """{mrr_cents, native_cents, currency} the subscription adds while it counts."""
    price = charged(sub)
    native = monthly(price, sub.interval, sub.interval_count)
    if sub.currency == store:
        mrr = native
    else:
        rate = rate_of(conn, sub.id, store)
        mrr = None if rate is None else monthly(price, sub.interval, sub.interval_count, rate)
    return {"mrr_cents": mrr, "native_cents": native, "currency": sub.currency}


def history_of(sub, now):
    """(start, end) of the span a subscription the ledger has not seen is taken to have had:
    its present state, since its start date; None if it never counted so."""
    start = min(sub.start_date, now)
    if sub.status == "canceled":
        end = sub.access_until or sub.canceled_at
    elif sub.status in LIVE_STATUSES and sub.status != "trialing" and not sub.paused:
        end = access_ends_at(sub)
    else:
        return None
    if end is not None and end <= start:
        return None
    return start, end


def settle(conn, sub, now, store):
    """Bring the subscription's spans in line with its row at `now`; returns the instant
    touched (None if nothing changed).

    A subscription the ledger has not seen yet gets its history (history_of) or, if it never
    counted, a zero span from its start: the mark that it has been seen, so that a trial
    converting later starts counting then, not from the trial's start."""
    S = MrrSpan
    last = conn.execute(select(S.id, S.starts_at, S.ends_at, S.mrr_cents, S.native_cents,
                               S.currency).where(S.subscription_id == sub.id)
                        .order_by(S.starts_at.desc(), S.id.desc()).limit(1)).first()
    if last is None:
        return _backfill(conn, sub, now, store)
    want = value(conn, sub, store) if counts_now(sub, now) else None
    end = access_ends_at(sub) if want else None
    target = want or {"mrr_cents": 0, "native_cents": 0, "currency": sub.currency}
    live = last.ends_at is None or last.ends_at > now
    if live and all(getattr(last, k) == target[k] for k in SPAN_FIELDS):
        if last.ends_at == end:
            return None
        # only when it will end moved (end > now while it counts): the past is unchanged
        conn.execute(update(S).where(S.id == last.id).values(ends_at=end))
        return now
    if not live and want is None:
        return None
    if live:
        if last.starts_at >= now:
            conn.execute(delete(S).where(S.id == last.id))
        else:
            conn.execute(update(S).where(S.id == last.id).values(ends_at=now))
    if want:
        conn.execute(insert(S).values(subscription_id=sub.id, customer_id=sub.customer_id,
                                      starts_at=now, ends_at=end, **want))
    return now


def first_span(conn, sub, now, store):
    """The span row of a subscription the ledger meets for the first time: its history, or
    a zero span from its start (the mark that it has been seen)."""
    period = history_of(sub, now)
    if period is None:
        values = {"mrr_cents": 0, "native_cents": 0, "currency": sub.currency}
        period = (min(sub.start_date, now), None)
    else:
        values = value(conn, sub, store)
    return {"subscription_id": sub.id, "customer_id": sub.customer_id,
            "starts_at": period[0], "ends_at": period[1], **values}


def _backfill(conn, sub, now, store):
    row = first_span(conn, sub, now, store)
    conn.execute(insert(MrrSpan).values(**row))
    return row["starts_at"]


def touch(conn, instants, money=()):
    """Mark the instants the MRR ledger changed at, and those a payment, refund or dispute
    moved money at (`money`: a refresh sums that day's money again)."""
    rows = [{"at": when, "money": False} for when in sorted(set(instants) - {None})]
    rows += [{"at": when, "money": True} for when in sorted(set(money) - {None})]
    if rows:
        conn.execute(insert(MetricsTouch), rows)


def _money_instant(obj):
    return obj.created_at


def keep_ledger(session, _context):
    """After every flush (registered by models/__init__.py): spans for the subscriptions it wrote (and for those whose rate a
    settled payment set), touches for the payments, refunds and disputes."""
    changed = [obj for obj in chain(session.new, session.dirty)
               if isinstance(obj, (Subscription, Transaction, Refund, Dispute))]
    if not changed:
        return
    conn, now, store = session.connection(), utcnow(), STORE["currency"]
    subs, rated, instants, money = {}, set(), [], []
    for obj in changed:
        if isinstance(obj, Subscription):
            subs[obj.id] = obj
        else:
            if isinstance(obj, Transaction) and obj.subscription_id and \
                    obj.status == "succeeded" and obj.settlement_currency == store:
                rated.add(obj.subscription_id)
            money.append(_money_instant(obj))
    for sub_id in rated - set(subs):
        row = conn.execute(select(Subscription.__table__).where(Subscription.id == sub_id)
                           ).first()
        if row is not None and row.currency != store:
            subs[sub_id] = row
    for sub in subs.values():
        instants.append(settle(conn, sub, now, store))
    touch(conn, instants, money)
