"""POST /webhooks/stripe and /webhooks/paypal: authenticated by the gateway's signature (no
login, no CSRF), stored once, answered at once, processed in the background."""
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from actions.errors import GatewayError
from actions.gateways.stripe_sync import StripeSignatureError, verify_event
from actions.sync import events
from admin_app import webhook_input
from admin_app.composition import deps_from_app
from admin_app.extensions import csrf
from models import db
from admin_app.queue import enqueue, on_worker_start

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)


def process_job(event_pk):
    """The background job: apply one stored event, with its retries."""
    config = current_app.config
    try:
        return events.run_event(deps_from_app(), event_pk,
                                max_attempts=config["WEBHOOK_MAX_ATTEMPTS"],
                                delay=float(config["WEBHOOK_RETRY_DELAY"]))
    finally:
        db.session.remove()


@on_worker_start
def resume_events(app):
    """Events a stopped process stored but never finished (older than a minute: younger
    ones are still in some worker's hands) are queued again; processing them twice is
    harmless (the event row is locked, a processed event is skipped)."""
    for event_pk in events.pending_events(older_than=timedelta(minutes=1)):
        enqueue(process_job, event_pk)


def _reply(status, message, **extra):
    return jsonify({"message": message, **extra}), status


def _raw_body():
    """The body as sent (the signature covers these exact bytes); 413 when over the limit."""
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"]
    return request.get_data(cache=False)


def _accept(gateway, event_id, event_type, occurred_at, raw):
    row_id, new = events.store_event(gateway, event_id, event_type, occurred_at,
                                     raw.decode("utf-8"))
    if new:
        enqueue(process_job, row_id)
        return _reply(200, "stored", event=event_id)
    return _reply(200, "already received", event=event_id)


@bp.post("/stripe")
def stripe_webhook():
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        return _reply(503, "STRIPE_WEBHOOK_SECRET is not set: events cannot be verified.")
    raw = _raw_body()
    try:
        webhook_input.check_depth(raw)
        verify_event(raw, request.headers.get("Stripe-Signature"), secret,
                     current_app.config["STRIPE_WEBHOOK_TOLERANCE"])
        event = webhook_input.parse(raw)
        event_id, event_type = webhook_input.event_id(event), webhook_input.event_type(event)
        created = webhook_input.created_at(event)
    except StripeSignatureError as e:
        return _reply(400, f"signature not verified: {e}")
    except webhook_input.NotAnEvent as e:
        return _reply(400, f"not a Stripe event: {e}")
    return _accept("stripe", event_id, event_type, created, raw)


@bp.post("/paypal")
def paypal_webhook():
    webhook_id = current_app.config["PAYPAL_WEBHOOK_ID"]
    if not webhook_id:
        return _reply(503, "PAYPAL_WEBHOOK_ID is not set: events cannot be verified.")
    raw = _raw_body()
    try:
        event = webhook_input.parse(raw)
        event_id = webhook_input.event_id(event)
        event_type = webhook_input.event_type(event, "event_type")
    except webhook_input.NotAnEvent as e:
        return _reply(400, f"not a PayPal event: {e}")
    sent = _transmission_time(request.headers.get("PAYPAL-TRANSMISSION-TIME"))
    now = datetime.now(timezone.utc)
    if sent is None or abs((now - sent).total_seconds()) > \
            current_app.config["PAYPAL_WEBHOOK_TOLERANCE"]:
        return _reply(400, "missing or stale PAYPAL-TRANSMISSION-TIME")
    reader = events.reader_for("paypal", deps_from_app())
    if reader is None:
        return _reply(503, "PayPal is not configured: events cannot be verified.")
    try:
        verified = reader.verify_webhook(request.headers, webhook_id, event)
    except GatewayError as e:  # PayPal retries a delivery we could not check
        return _reply(503, f"PayPal could not verify the event now: {e.message}")
    if not verified:
        return _reply(400, "signature not verified by PayPal")
    created = _transmission_time(event.get("create_time"))
    return _accept("paypal", event_id, event_type, created, raw)


def _transmission_time(text):
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@bp.errorhandler(HTTPException)
def _http_error(e):
    """Gateways get a short JSON answer, not the panel's HTML error page."""
    return _reply(e.code, e.description or e.name)
