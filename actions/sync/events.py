"""Webhook events: stored once (unique on gateway + event id), then processed in one database
transaction each; a failure rolls everything back and is retried, after WEBHOOK_MAX_ATTEMPTS
the event is marked failed (and shown on the Webhook events page)."""
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from actions import audit
from actions.errors import GatewayNotConfigured, InvalidRequest
from actions.permissions import require
from actions.sync.records import WEBHOOK
from models import WebhookEvent, db
from models._types import utcnow

DEFAULT_MAX_ATTEMPTS = 5


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


def store_event(gateway, event_id, event_type, occurred_at, payload):
    """Insert the event unless it is already stored; (row id, True) if new, (None, False) if
    a repeated delivery. One autocommitted statement: durable before the 2xx, and the fewest
    round trips to the database (this is the endpoint's whole cost)."""
    if len(str(event_id)) > 255:  # the endpoints refuse these; cutting would merge two events
        raise ValueError(f"event id longer than 255 characters: {str(event_id)[:40]}...")
    values = dict(gateway=gateway, event_id=str(event_id),
                  event_type=str(event_type)[:100], occurred_at=occurred_at,
                  received_at=utcnow(), payload=payload, status="received", attempts=0)
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


def process_event(deps, event_pk, *, max_attempts=DEFAULT_MAX_ATTEMPTS, force=False):
    """Apply one stored event; returns its status afterwards.

    Processed and ignored events are left alone (a repeated job does nothing) unless `force`.
    """
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == event_pk)
                              .with_for_update())
    if event is None or (event.status in ("processed", "ignored", "failed") and not force):
        db.session.rollback()
        return getattr(event, "status", None)
    handler = _handlers(event.gateway).get(event.event_type)
    attempts = event.attempts + 1
    if handler is None:  # stored and acknowledged; nothing of ours follows from it
        event.status, event.processed_at, event.attempts = "ignored", deps.clock(), attempts
        db.session.commit()
        return "ignored"
    ctx = Context(deps, reader_for(event.gateway, deps), WEBHOOK)
    try:
        handler(json.loads(event.payload), ctx)
        event.status, event.processed_at, event.last_error = "processed", deps.clock(), None
        event.attempts = attempts
        db.session.commit()
        return "processed"
    except Exception as exc:  # noqa: BLE001 - any failure: roll back, record, retry later
        db.session.rollback()
        return _record_failure(event_pk, attempts, exc, max_attempts)


def _record_failure(event_pk, attempts, exc, limit):
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == event_pk)
                              .with_for_update())
    event.attempts = attempts
    event.last_error = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:2000]
    event.status = "failed" if attempts >= limit else "retrying"
    db.session.commit()
    return event.status


def run_event(deps, event_pk, *, max_attempts=DEFAULT_MAX_ATTEMPTS, delay=2.0,
              sleep=time.sleep):
    """Process an event, retrying with growing pauses until it is done or marked failed."""
    status = process_event(deps, event_pk, max_attempts=max_attempts)
    while status == "retrying":
        event = db.session.get(WebhookEvent, event_pk)
        sleep(delay * 2 ** (event.attempts - 1))
        db.session.rollback()
        status = process_event(deps, event_pk, max_attempts=max_attempts)
    return status


def pending_events(limit=1000, older_than=None):
    """Events stored but not finished (a crashed worker's, or those waiting for a retry)."""
    query = select(WebhookEvent.id).where(WebhookEvent.status.in_(("received", "retrying")))
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
