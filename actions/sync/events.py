"""Webhook events: stored once (unique on gateway + event id), then applied in batches.

Each event belongs to a lane (a hash of the object it is about: its customer, subscription or
payment). One worker at a time drains a lane (admin_app.webhooks holds the lane's lock),
applying its due events in the order they were received, each in a savepoint of the batch's
transaction: a failing event rolls back only itself, is marked "retrying" with the time of its
next try (growing delays, scheduled, never slept in a worker) and after WEBHOOK_MAX_ATTEMPTS
"failed" (shown on the Webhook events page). An event's row is locked and its status checked
before it is applied, so an event is applied once even if two drains ever met.
"""
import json
import zlib
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.dialects import postgresql, sqlite

from actions import audit, ltv
from actions.errors import GatewayNotConfigured, InvalidRequest
from actions.permissions import require
from actions.sync.claims import claim_batch
from actions.sync.apply_money import defer_invoice_numbers, forget_deferred, number_deferred
from actions.sync.read_ahead import CachedReader, read_ahead
from actions.sync.records import WEBHOOK
from models import WebhookEvent, db
from models._types import utcnow

DEFAULT_MAX_ATTEMPTS = 6
LANES = 16
DUE_STATUSES = ("received", "retrying")


@dataclass(frozen=True)
class Context:
    """What a handler needs: the action collaborators (Deps), a reader for the gateway (None
    when it is not configured: nothing can be fetched) and the actor the audit names."""

    deps: Any
    reader: Any
    actor: Any

    @property
    def store(self):
        return self.deps.store_currency

    @property
    def clock(self):
        return self.deps.clock


def reader_for(gateway, deps):
    """The gateway's read-only client (on its adapter's connection), or None when it is not
    configured."""
    from actions.gateways.paypal_sync import PayPalReader
    from actions.gateways.stripe_sync import StripeReader
    try:
        adapter = deps.gateways(gateway)
    except GatewayNotConfigured:
        return None
    return (StripeReader if gateway == "stripe" else PayPalReader)(adapter)


def object_key(gateway, event):
    """What an event is about, as one string shared by the events that must be applied in
    order: a payment and its refunds and disputes (Stripe: the charge; PayPal: the capture,
    sale or subscription), else the customer (Stripe subscriptions, customers, invoices)."""
    if not isinstance(event, dict):
        return ""
    if gateway == "stripe":
        obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) \
            else None
        obj = obj if isinstance(obj, dict) else {}
        if obj.get("object") == "charge" and obj.get("id"):
            return str(obj["id"])
        keys = ("charge", "customer", "id")
    else:
        obj = event.get("resource") if isinstance(event.get("resource"), dict) else {}
        keys = ("billing_agreement_id", "sale_id", "capture_id", "id")
        for disputed in obj.get("disputed_transactions") or []:  # a dispute: its payment
            if isinstance(disputed, dict) and disputed.get("seller_transaction_id"):
                return str(disputed["seller_transaction_id"])
        for link in obj.get("links") or []:  # a v2 refund names its capture by its "up" link
            if isinstance(link, dict) and link.get("rel") == "up" and link.get("href"):
                return str(link["href"]).rstrip("/").rsplit("/", 1)[-1]
    for key in keys:
        value = obj.get(key)
        if isinstance(value, dict):  # an expanded object
            value = value.get("id")
        if value:
            return str(value)
    return str(event.get("id") or "")


def lane_of(gateway, event):
    """The lane of an event: a stable hash of its object key (0..LANES-1)."""
    return zlib.crc32(object_key(gateway, event).encode("utf-8", "replace")) % LANES


def retry_delay(attempts, base=30.0, factor=4.0):
    """Seconds before the next try of an event that failed `attempts` times: base, then
    growing by `factor` (30 s, 2 min, 8 min, 32 min, 2 h 8 min with the defaults)."""
    return float(base) * float(factor) ** max(0, attempts - 1)


def store_event(gateway, event_id, event_type, occurred_at, payload, lane=0):
    """Insert the event unless it is already stored; (row id, True) if new, (None, False) if
    a repeated delivery. One autocommitted statement: durable before the 2xx, and the fewest
    round trips to the database (this is the endpoint's whole cost)."""
    if len(str(event_id)) > 255:  # the endpoints refuse these; cutting would merge two events
        raise ValueError(f"event id longer than 255 characters: {str(event_id)[:40]}...")
    values = dict(gateway=gateway, event_id=str(event_id),
                  event_type=str(event_type)[:100], occurred_at=occurred_at,
                  received_at=utcnow(), payload=payload, status="received", attempts=0,
                  lane=lane)
    dialect = db.engine.dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(WebhookEvent).values(**values).on_conflict_do_nothing(
        index_elements=["gateway", "event_id"]).returning(WebhookEvent.id)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        row_id = conn.execute(stmt).scalar()
    return row_id, row_id is not None


def _handlers(gateway):
    from actions.sync import paypal_handlers, stripe_handlers
    return {"stripe": stripe_handlers.HANDLERS, "paypal": paypal_handlers.HANDLERS}[gateway]


def process_event(deps, event_pk, *, max_attempts=DEFAULT_MAX_ATTEMPTS, force=False,
                  delay=lambda attempts: 0.0):
    """Apply one stored event now; returns its status afterwards.

    Processed and ignored events are left alone (a repeated job does nothing) unless `force`.
    """
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == event_pk)
                              .with_for_update())
    if event is None or (event.status in ("processed", "ignored", "failed") and not force):
        db.session.rollback()
        return getattr(event, "status", None)
    status = _apply(deps, event, max_attempts, delay)
    db.session.commit()
    return status


class _Failed(Exception):
    """An event of a batch applied without savepoints failed: the batch is redone with one."""

    def __init__(self, event_id, error):
        super().__init__(event_id)
        self.event_id, self.error = event_id, error


def _apply(deps, event, max_attempts, delay, savepoint=True, failed=None, reads=None):
    """Apply a locked event inside a savepoint of the current transaction and record the
    outcome on its row (not committed): a failure undoes only this event's writes. Without
    `savepoint` (a batch's first pass) a failure raises _Failed: the caller rolls the whole
    batch back and applies it again with savepoints, recording that failure (`failed`: the
    exception) without trying the event a second time. `reads`: the gateway's answers read
    ahead of the batch (read_ahead)."""
    handler = _handlers(event.gateway).get(event.event_type)
    attempts = event.attempts + 1
    if handler is None:  # stored and acknowledged; nothing of ours follows from it
        event.status, event.processed_at, event.attempts = "ignored", deps.clock(), attempts
        event.next_attempt_at = None
        return "ignored"
    if failed is not None:
        return _failure(event, failed, attempts, max_attempts, delay)
    actor = replace(WEBHOOK, customers=set())
    reader = reader_for(event.gateway, deps)
    if reader is not None and reads is not None:
        reader = CachedReader(reader, reads)
    ctx = Context(deps, reader, actor)
    mark = ltv.deferred_mark()
    event_id = event.id  # a failed flush expires every object: read it while we can
    try:
        if savepoint:
            with db.session.begin_nested():
                handler(json.loads(event.payload), ctx)
        else:
            handler(json.loads(event.payload), ctx)
    except OperationalError:  # the database, not the event: the whole batch is tried again
        raise
    except Exception as exc:  # noqa: BLE001 - any failure: undone, recorded, tried later
        if not savepoint:
            raise _Failed(event_id, exc) from exc
        ltv.restore_deferred(mark)  # its lifetime-value changes are undone with it
        return _failure(event, exc, attempts, max_attempts, delay)
    event.status, event.processed_at, event.last_error = "processed", deps.clock(), None
    event.attempts, event.next_attempt_at = attempts, None
    if actor.customers:  # the customer whose timeline lists this event
        event.customer_id = min(actor.customers)
    return "processed"


def _failure(event, exc, attempts, max_attempts, delay):
    event.attempts = attempts
    event.last_error = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:2000]
    if attempts >= max_attempts:
        event.status, event.next_attempt_at = "failed", None
    else:
        event.status = "retrying"
        event.next_attempt_at = utcnow() + timedelta(seconds=delay(attempts))
    return event.status


def _due(now):
    return (WebhookEvent.status.in_(DUE_STATUSES),
            or_(WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now))


def apply_batch(deps, lane=None, *, limit=200, max_attempts=DEFAULT_MAX_ATTEMPTS,
                delay=lambda attempts: 0.0):
    """Apply up to `limit` due events of `lane` (None: every lane) in the order received, in
    one transaction; returns {status: count} of what was done.

    The first pass applies the batch without savepoints (two round trips fewer per event);
    if any event fails, the whole batch is rolled back (nothing of it was written) and
    applied again with a savepoint per event, so that only the failing events are undone
    and marked for a retry (the failed event itself is not tried a second time: its failure
    is recorded as it happened). Payments get their invoice numbers just before the commit.

    The gateway reads the batch will need (a child's missing parent, balance transactions, a
    capture's order) are made first, outside any transaction (read_ahead): the batch's locks
    are never held while a gateway answers."""
    reads = read_ahead(deps, db.session.execute(
        _due_query(lane).with_only_columns(WebhookEvent.gateway, WebhookEvent.event_type,
                                           WebhookEvent.payload)
        .order_by(WebhookEvent.id).limit(limit)).all(), reader_for)
    try:
        return _apply_batch(deps, lane, limit, max_attempts, delay, savepoint=False,
                            reads=reads)
    except _Failed as first:
        db.session.rollback()
        _forget_deferred()
        failed = {first.event_id: first.error}
    except BaseException:
        _forget_deferred()
        raise
    try:
        return _apply_batch(deps, lane, limit, max_attempts, delay, savepoint=True,
                            failed=failed, reads=reads)
    finally:
        _forget_deferred()


def _forget_deferred():
    forget_deferred()
    ltv.forget_deferred()


def _due_query(lane):
    query = select(WebhookEvent).where(*_due(utcnow()))
    if lane is not None:
        query = query.where(WebhookEvent.lane == lane)
    return query


def _apply_batch(deps, lane, limit, max_attempts, delay, savepoint, failed=None, reads=None):
    batch = db.session.scalars(_due_query(lane).order_by(WebhookEvent.id).limit(limit)
                               .with_for_update(skip_locked=True)).all()
    claim_batch(batch)  # before any row lock: what another lane also creates, in one order
    defer_invoice_numbers()
    ltv.defer_adjustments()
    done = {}
    for event in batch:
        status = _apply(deps, event, max_attempts, delay, savepoint,
                        (failed or {}).get(event.id), reads)
        done[status] = done.get(status, 0) + 1
    ltv.apply_deferred()  # the customers' rows, locked from here to the commit, by id
    number_deferred()
    db.session.commit()
    return done


def next_retry(lane=None):
    """When the earliest event waiting for a retry (of `lane`) is due, or None."""
    query = select(WebhookEvent.next_attempt_at).where(WebhookEvent.status == "retrying",
                                                       WebhookEvent.next_attempt_at.is_not(None))
    if lane is not None:
        query = query.where(WebhookEvent.lane == lane)
    return db.session.scalar(query.order_by(WebhookEvent.next_attempt_at).limit(1))


def due_lanes(older_than=None):
    """The lanes that have events due now (received, or whose retry time has come); with
    `older_than`, only events received before that long ago (younger ones are in hand)."""
    query = select(WebhookEvent.lane).where(*_due(utcnow())).distinct()
    if older_than is not None:
        query = query.where(WebhookEvent.received_at < utcnow() - older_than)
    return sorted(db.session.scalars(query).all())


def pending_events(limit=1000, older_than=None):
    """Events stored but not finished (a crashed worker's, or those waiting for a retry)."""
    query = select(WebhookEvent.id).where(WebhookEvent.status.in_(DUE_STATUSES))
    if older_than is not None:
        query = query.where(WebhookEvent.received_at < utcnow() - older_than)
    return db.session.scalars(query.order_by(WebhookEvent.id).limit(limit)).all()


def reprocess(deps, actor, event_pk):
    """An admin asks to apply a stored event again (after fixing what made it fail)."""
    require(actor, "webhooks")
    event = db.session.get(WebhookEvent, event_pk)
    if event is None:
        raise InvalidRequest("This webhook event no longer exists.")
    audit.record(actor, "webhook.reprocess", ("webhook_event", event.id), outcome="pending",
                 before={"status": event.status, "attempts": event.attempts})
    db.session.commit()
    status = process_event(deps, event_pk, force=True)
    event = db.session.get(WebhookEvent, event_pk)
    audit.record(actor, "webhook.reprocess", ("webhook_event", event.id),
                 outcome="failed" if status in ("failed", "retrying") else "succeeded",
                 after={"status": status}, message=event.last_error)
    db.session.commit()
    return status, event.last_error
