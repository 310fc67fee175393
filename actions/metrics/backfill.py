"""Spans for the subscriptions the MRR ledger has not seen (written by Core bulk inserts,
such as the seed's COPY, or before the ledger existed): each is taken as it is now, since its
start date (models/mrr.py history_of). The flush hook does the same for a subscription it
meets for the first time; this does it in bulk, for `flask metrics rebuild`."""
from sqlalchemy import exists, insert, select

from models import MrrSpan, Subscription, db
from models.mrr import first_span

BATCH = 5000


def unseen_count():
    return db.session.scalar(select(db.func.count()).select_from(Subscription).where(
        ~exists().where(MrrSpan.subscription_id == Subscription.id)))


def backfill(now, store, progress=None):
    """Write the spans of every unseen subscription; returns how many were seen now."""
    conn, done, after = db.session.connection(), 0, None
    while True:
        query = (select(Subscription.__table__)
                 .where(~exists().where(MrrSpan.subscription_id == Subscription.id))
                 .order_by(Subscription.id).limit(BATCH))
        if after is not None:
            query = query.where(Subscription.id > after)
        subs = conn.execute(query).all()
        if not subs:
            return done
        rows = [first_span(conn, sub, now, store) for sub in subs]
        conn.execute(insert(MrrSpan), rows)
        done, after = done + len(subs), subs[-1].id
        if progress:
            progress(len(subs))
