"""A customer's timeline: payments, refunds, disputes, subscription changes, e-mails sent,
webhooks received, detail edits and internal notes, newest first, a page at a time.

Each source is read by an index on (customer, time) with a limit of one page (subscription
changes through the customer's few subscriptions),
and the pages are merged by time: opening the timeline of a customer with thousands of
payments reads about a page per source, never the whole history. A page ends at a cursor
(time, source, id); the next page is what lies strictly before it.
"""
import heapq
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, lazyload

from actions.errors import InvalidRequest
from models import (AuditEvent, Customer, CustomerNote, Dispute, Refund, Subscription,
                    SubscriptionChange, Transaction, WebhookEvent, db)
from models.customer import DETAIL_FIELDS
from models.transaction import GATEWAYS, REFUND_REASONS

PAGE_SIZE = 25
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CURSOR = re.compile(r"(-?[0-9]{1,18})\.([0-9])\.([0-9]{1,19})")
MAX_ID = 2 ** 63 - 1  # ids are signed 64-bit
SYSTEM_ACTORS = ("webhook", "sync")
#: what an admin's subscription change is called (SubscriptionChange.kind)
CHANGE_TITLES = {"price": "Price change", "plan": "Plan change", "affiliate": "Affiliate change",
                 "cancel": "Cancellation", "undo_cancel": "Cancellation undone",
                 "pause": "Pause", "resume": "Resumption"}
FIELD_LABELS = dict(DETAIL_FIELDS) | {"avatar": "Avatar", "stripe_customer_id": "Stripe ID",
                                      "paypal_payer_id": "PayPal ID"}


@dataclass
class Entry:
    """One line of the timeline: when, what (`kind`, `title`, `detail`), by whom, how much."""

    at: datetime
    rank: int  # the source: orders entries of the same instant
    id: int
    kind: str
    title: str
    who: str
    amount: tuple | None = None  # (minor units, currency)
    detail: str | None = None
    status: str | None = None

    @property
    def key(self):
        return self.at, self.rank, self.id

    @property
    def cursor(self):
        return encode_cursor(self.key)


@dataclass
class Page:
    entries: list
    older: str | None  # the cursor of the next (older) page, None at the first entry ever


def encode_cursor(key):
    at, rank, row_id = key
    return f"{(at - EPOCH) // timedelta(microseconds=1)}.{rank}.{row_id}"


def decode_cursor(text):
    """(time, source, id) from a cursor of encode_cursor; InvalidRequest for anything else."""
    match = CURSOR.fullmatch(text or "")
    if not match:
        raise InvalidRequest("That page of the timeline does not exist (the link is damaged); "
                             "open the timeline again.")
    micros, rank, row_id = (int(g) for g in match.groups())
    try:
        if row_id > MAX_ID:
            raise OverflowError
        at = EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise InvalidRequest("That page of the timeline does not exist (the link is "
                             "damaged); open the timeline again.") from None
    return at, rank, row_id


def _before(time_col, id_col, rank, cursor):
    """SQL: rows of source `rank` that come after `cursor` in newest-first order."""
    if cursor is None:
        return True
    at, c_rank, c_id = cursor
    if rank < c_rank:
        return time_col <= at
    if rank > c_rank:
        return time_col < at
    # (time <= at) first: the index range starts at the cursor, whatever lies after it
    return and_(time_col <= at, or_(time_col < at, id_col < c_id))


def _label(gateway):
    return GATEWAYS.get(gateway, gateway or "the gateway")


def _money(cents, currency):
    return (cents, currency) if cents is not None and currency else None


# --- the sources: each returns up to `limit` entries, newest first ------------------------

def _payments(cid, cursor, limit):
    rank = 0
    rows = db.session.scalars(
        select(Transaction).options(lazyload(Transaction.refunds))
        .where(Transaction.customer_id == cid,
                                  _before(Transaction.created_at, Transaction.id, rank, cursor))
        .order_by(Transaction.created_at.desc(), Transaction.id.desc()).limit(limit))
    for tx in rows:
        invoice = f" · invoice {tx.invoice_number}" if tx.invoice_number else ""
        yield Entry(tx.created_at, rank, tx.id, "payment", f"Payment {tx.status}",
                    tx.gateway_label, _money(tx.amount_cents, tx.currency),
                    f"{tx.description}{invoice}" if tx.description else invoice[3:] or None,
                    None)


def _refunds(cid, cursor, limit):
    rank = 1
    rows = db.session.execute(
        select(Refund, Transaction.gateway, Transaction.description)
        .join(Transaction, Refund.transaction_id == Transaction.id)
        .where(Refund.customer_id == cid,
               _before(Refund.created_at, Refund.id, rank, cursor))
        .order_by(Refund.created_at.desc(), Refund.id.desc()).limit(limit))
    for refund, gateway, description in rows:
        reason = REFUND_REASONS.get(refund.reason, refund.reason)
        detail = " · ".join(filter(None, [f"of “{description}”" if description else None,
                                          reason, refund.note, refund.failure_message]))
        who = refund.created_by.email if refund.created_by else _label(gateway)
        yield Entry(refund.created_at, rank, refund.id, "refund", f"Refund {refund.status}",
                    who, _money(refund.amount_cents, refund.currency), detail)


def _disputes(cid, cursor, limit):
    rank = 2
    rows = db.session.scalars(
        select(Dispute).where(Dispute.customer_id == cid,
                              _before(Dispute.created_at, Dispute.id, rank, cursor))
        .order_by(Dispute.created_at.desc(), Dispute.id.desc()).limit(limit))
    for d in rows:
        yield Entry(d.created_at, rank, d.id, "dispute", f"Dispute {d.status}",
                    _label(d.gateway), _money(d.amount_cents, d.currency),
                    (d.reason or "").replace("_", " ") or None)


def _changes(cid, cursor, limit):
    rank = 3
    rows = db.session.execute(
        select(SubscriptionChange, Subscription.name, Subscription.currency)
        .join(Subscription, SubscriptionChange.subscription_id == Subscription.id)
        .options(joinedload(SubscriptionChange.created_by))
        .where(Subscription.customer_id == cid,
               _before(SubscriptionChange.created_at, SubscriptionChange.id, rank, cursor))
        .order_by(SubscriptionChange.created_at.desc(), SubscriptionChange.id.desc())
        .limit(limit))
    for change, name, currency in rows:
        ask = (change.params or {}).get("ask") or {}
        amount = _money(ask.get("amount_cents"), currency) \
            if isinstance(ask.get("amount_cents"), int) else None
        detail = {"now": "at once", "period_end": "at the end of the period"}.get(
            ask.get("when")) if isinstance(ask.get("when"), str) else None
        if change.failure_message:
            detail = " · ".join(filter(None, [detail, change.failure_message]))
        title = f"{CHANGE_TITLES.get(change.kind, change.kind)} of {name}"
        who = change.created_by.email if change.created_by else "—"
        yield Entry(change.created_at, rank, change.id, "subscription", title, who, amount,
                    detail, change.status.replace("_", " "))


def _audit(cid, cursor, limit):
    rank = 4
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.customer_id == cid,
                                 _before(AuditEvent.created_at, AuditEvent.id, rank, cursor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)).all()
    gateways = _target_gateways(cid, rows)
    for event in rows:
        yield _audit_entry(event, gateways.get((event.target_type, event.target_id)), rank)


def _target_gateways(cid, events):
    """{(target type, id): gateway} of the page's audit entries (one query per type)."""
    found = {}
    wanted = {}
    for e in events:
        wanted.setdefault(e.target_type, set()).add(e.target_id)
    for model in (Transaction, Subscription):
        ids = wanted.get(model.__tablename__)
        if ids:
            found.update({(model.__tablename__, i): g for i, g in db.session.execute(
                select(model.id, model.gateway).where(model.id.in_(ids)))})
    if Customer.__tablename__ in wanted:
        customer = db.session.get(Customer, cid)
        ids = [g for g, col in (("stripe", "stripe_customer_id"), ("paypal", "paypal_payer_id"))
               if customer is not None and getattr(customer, col)]
        found[(Customer.__tablename__, cid)] = ids[0] if len(ids) == 1 else None
    return found


def _fields(values):
    return ", ".join(FIELD_LABELS.get(k, k.replace("_", " ")) for k in (values or {}))


def _changed(before, after):
    """'status active → canceled, price_cents 900 → 1200' from an audit entry's values."""
    before, after = before or {}, after or {}
    return ", ".join(f"{k.replace('_', ' ')} {before.get(k, '—')} → {after[k]}" for k in after)


def _audit_entry(event, gateway, rank):
    by_gateway = event.actor_email in SYSTEM_ACTORS
    gateway = (event.after or {}).get("gateway") or gateway
    who = (_label(gateway) + (" (sync)" if event.actor_email == "sync" else "")) \
        if by_gateway else (event.actor_email or "—")
    after, action = event.after or {}, event.action
    status = None if event.outcome == "succeeded" else event.outcome
    kind, detail = "edit", None
    if action == "customer.edit":
        title, detail = "Details edited", _fields(after)
    elif action == "customer.imported":
        title = f"Customer imported from {_label(gateway)}"
    elif action == "customer.synced":
        title, detail = f"Details updated from {_label(gateway)}", _fields(after)
    elif action == "invoice.resend":
        kind = "email"
        title = f"E-mail: invoice {after.get('invoice', '')} sent".replace("  ", " ") \
            if event.outcome == "succeeded" else "E-mail: invoice not sent"
        detail = " · ".join(filter(None, [f"to {after['to']}" if after.get("to") else None,
                                          event.message]))
    elif action == "sale.affiliate":
        title, detail = "Payment's affiliate changed", _changed(event.before, after)
    elif action in ("subscription.imported", "subscription.synced"):
        kind = "subscription"
        title = (f"Subscription imported from {_label(gateway)}"
                 if action == "subscription.imported"
                 else f"Subscription changed at {_label(gateway)}")
        detail = _changed(event.before, after)
    else:
        title, detail = action, event.message
    return Entry(event.created_at, rank, event.id, kind, title, who, None, detail or None,
                 status)


def _webhooks(cid, cursor, limit):
    rank = 5
    rows = db.session.execute(
        select(WebhookEvent.id, WebhookEvent.gateway, WebhookEvent.event_type,
               WebhookEvent.received_at, WebhookEvent.status, WebhookEvent.event_id)
        .where(WebhookEvent.customer_id == cid,
               _before(WebhookEvent.received_at, WebhookEvent.id, rank, cursor))
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc()).limit(limit))
    for row in rows:
        yield Entry(row.received_at, rank, row.id, "webhook",
                    f"Webhook received: {row.event_type}", _label(row.gateway), None,
                    row.event_id, row.status)


def _notes(cid, cursor, limit):
    rank = 6
    rows = db.session.scalars(
        select(CustomerNote).where(CustomerNote.customer_id == cid,
                                   _before(CustomerNote.created_at, CustomerNote.id, rank,
                                           cursor))
        .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc()).limit(limit))
    for note in rows:
        yield Entry(note.created_at, rank, note.id, "note", "Internal note",
                    note.author_email or "—", None, note.body)


SOURCES = (_payments, _refunds, _disputes, _changes, _audit, _webhooks, _notes)


def timeline_page(customer_id, before=None, page_size=PAGE_SIZE):
    """The page of `customer_id`'s timeline that ends before the cursor `before` (text from
    a previous page's `older`; None: the newest page). InvalidRequest for a damaged cursor."""
    cursor = decode_cursor(before) if before is not None else None
    if db.session.get(Customer, customer_id) is None:
        raise InvalidRequest("This customer no longer exists.")
    streams = [list(source(customer_id, cursor, page_size + 1)) for source in SOURCES]
    merged = list(islice(heapq.merge(*streams, key=lambda e: e.key, reverse=True),
                         page_size + 1))
    entries = merged[:page_size]
    older = entries[-1].cursor if len(merged) > page_size else None
    return Page(entries, older)
