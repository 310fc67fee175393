"""Webhook events: stored once (unique on gateway + event id), then processed in one database
transaction each; a failure rolls everything back and is retried, after WEBHOOK_MAX_ATTEMPTS
the event is marked failed (and shown on the Webhook events page)."""
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from actions import audit
from actions.errors import GatewayNotConfigured, InvalidRequest
from actions.sync.records import WEBHOOK
from models import WebhookEvent, db
from models._types import utcnow

DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Context:
    """What a handler needs: the store currency, a reader for the gateway (None when it is not
    configured: nothing can be fetched), the actor the audit names and a clock."""

    store: str
    reader: Any
    actor: Any
    clock: Callable = utcnow


def reader_for(gateway, config):
    """The gateway's read-only client, or None when it is not configured."""
    from actions.gateways import get_gateway
    from actions.gateways.paypal_sync import PayPalReader
    from actions.gateways.stripe_sync import StripeReader
    try:
        if gateway == "stripe":
            get_gateway("stripe", config)  # raises GatewayNotConfigured without a key
            return StripeReader(config["STRIPE_API_KEY"], config.get("STRIPE_API_BASE") or None,
                                int(config.get("STRIPE_TIMEOUT", 10)),
                                int(config.get("STRIPE_MAX_RETRIES", 2)))
        return PayPalReader(get_gateway("paypal", config))
    except GatewayNotConfigured:
        return None


def store_event(gateway, event_id, event_type, occurred_at, payload):
    """Insert the event unless it is already stored; (row id, True) if new, (None, False) if
    a repeated delivery. Commits."""
    values = dict(gateway=gateway, event_id=str(event_id)[:255],
                  event_type=str(event_type)[:100], occurred_at=occurred_at,
                  received_at=utcnow(), payload=payload, status="received", attempts=0)
    dialect = db.engine.dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(WebhookEvent).values(**values).on_conflict_do_nothing(
        index_elements=["gateway", "event_id"]).returning(WebhookEvent.id)
    row_id = db.session.execute(stmt).scalar()
    db.session.commit()
    return row_id, row_id is not None


def _handlers(gateway):
    from actions.sync import paypal_handlers, stripe_handlers
    return {"stripe": stripe_handlers.HANDLERS, "paypal": paypal_handlers.HANDLERS}[gateway]


def process_event(event_pk, config, *, force=False):
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
        event.status, event.processed_at, event.attempts = "ignored", utcnow(), attempts
        db.session.commit()
        return "ignored"
    ctx = Context(config["STORE_CURRENCY"], reader_for(event.gateway, config), WEBHOOK)
    try:
        handler(json.loads(event.payload), ctx)
        event.status, event.processed_at, event.last_error = "processed", utcnow(), None
        event.attempts = attempts
        db.session.commit()
        return "processed"
    except Exception as exc:  # noqa: BLE001 - any failure: roll back, record, retry later
        db.session.rollback()
        return _record_failure(event_pk, attempts, exc, config)


def _record_failure(event_pk, attempts, exc, config):
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == event_pk)
                              .with_for_update())
    limit = int(config.get("WEBHOOK_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    event.attempts = attempts
    event.last_error = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:2000]
    event.status = "failed" if attempts >= limit else "retrying"
    db.session.commit()
    return event.status


def run_event(event_pk, config, sleep=time.sleep):
    """Process an event, retrying with growing pauses until it is done or marked failed."""
    delay = float(config.get("WEBHOOK_RETRY_DELAY", 2))
    status = process_event(event_pk, config)
    while status == "retrying":
        event = db.session.get(WebhookEvent, event_pk)
        sleep(delay * 2 ** (event.attempts - 1))
        db.session.rollback()
        status = process_event(event_pk, config)
    return status


def pending_events(limit=1000):
    """Events stored but not finished (a crashed worker's, or those waiting for a retry)."""
    return db.session.scalars(select(WebhookEvent.id).where(
        WebhookEvent.status.in_(("received", "retrying"))).order_by(WebhookEvent.id)
        .limit(limit)).all()


def reprocess(event_pk, actor, config):
    """An admin asks to apply a stored event again (after fixing what made it fail)."""
    if not actor.can("webhooks"):
        raise InvalidRequest("Your role may not re-process webhook events.")
    event = db.session.get(WebhookEvent, event_pk)
    if event is None:
        raise InvalidRequest("This webhook event no longer exists.")
    audit.record(actor, "webhook.reprocess", ("webhook_event", event.id), outcome="pending",
                 before={"status": event.status, "attempts": event.attempts})
    db.session.commit()
    status = process_event(event_pk, config, force=True)
    event = db.session.get(WebhookEvent, event_pk)
    audit.record(actor, "webhook.reprocess", ("webhook_event", event.id),
                 outcome="failed" if status in ("failed", "retrying") else "succeeded",
                 after={"status": status}, message=event.last_error)
    db.session.commit()
    return status, event.last_error
