"""POST /webhooks/stripe and /webhooks/paypal: authenticated by the gateway's signature (no
login, no CSRF), stored once, answered at once, processed in the background."""
import logging
import time
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from actions.errors import GatewayError
from actions.gateways.stripe_sync import StripeSignatureError, verify_event
from actions.sync import events
from admin_app import webhook_input
from admin_app.composition import deps_from_app
from admin_app.extensions import csrf
from models import db
from admin_app.queue import backend, enqueue, enqueue_in, on_worker_start
from models._types import utcnow

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)


DRAIN_REQUEST_SECONDS = 60


def _settings(config):
    return dict(max_attempts=int(config["WEBHOOK_MAX_ATTEMPTS"]),
                delay=lambda attempts: events.retry_delay(
                    attempts, config["WEBHOOK_RETRY_DELAY"], config["WEBHOOK_RETRY_FACTOR"]),
                limit=int(config["WEBHOOK_BATCH"]))


def _lock_seconds():
    """How long a drainer's hold on its lane lasts without renewal (a dead drainer's lane is
    free again after this)."""
    return float(current_app.config["WEBHOOK_LANE_LOCK_SECONDS"])


def request_drain(lane):
    """Make sure a drain of `lane` is queued (at most one waits per lane: a burst of 30,000
    events queues a handful of jobs, not 30,000)."""
    if backend().flag(f"drain:{lane}:queued", DRAIN_REQUEST_SECONDS):
        enqueue(drain_job, lane)


def drain_job(lane):
    """The background job: apply the due events of one lane, in batches, until none is due.

    One drainer per lane at a time (a lock shared by every worker); a drain that finds the
    lane taken returns at once, because the holder looks again after letting go (so nothing
    stored before this job ran is left behind). Retries are scheduled, never slept."""
    config = current_app.config
    settings = _settings(config)
    queue_backend = backend()
    queue_backend.clear_flag(f"drain:{lane}:queued")  # new arrivals may queue the next one
    deps = deps_from_app()
    try:
        while True:
            lock = queue_backend.lock(f"lane:{lane}", _lock_seconds())
            if not lock.acquire():
                _drain_later(lane)
                return
            try:
                while _batch(deps, lane, settings):
                    lock.extend(_lock_seconds(), replace_ttl=True)
            except DatabaseBusy:  # the lane is left as it was; a drain shortly tries again
                enqueue_in(1.0, drain_job, lane)
                return
            finally:
                _release(lock)
            if lane not in events.due_lanes():
                break
        _schedule_retry(lane, config)
    finally:
        db.session.remove()


class DatabaseBusy(Exception):
    """The database refused a batch several times running (locked, deadlock, failover)."""


def _batch(deps, lane, settings, tries=5):
    """One batch of the lane; a batch the database refused (SQLite's lock, a PostgreSQL
    deadlock) is rolled back as a whole and tried again: nothing of it was applied."""
    for attempt in range(tries):
        try:
            return sum(events.apply_batch(deps, lane, **settings).values())
        except OperationalError as exc:
            db.session.rollback()
            log.warning("webhook lane %s: batch refused by the database (%s); again", lane,
                        exc.orig)
            time.sleep(0.05 * 2 ** attempt)
    raise DatabaseBusy(lane)


def _drain_later(lane):
    """The lane is held: its holder looks again after letting go, but if it died holding
    the lane, this drain (queued once per lock period) picks the lane up when it is free."""
    seconds = _lock_seconds()
    if backend().flag(f"drain:{lane}:later", seconds):
        enqueue_in(seconds + 0.5, drain_job, lane)


def _release(lock):
    try:
        lock.release()
    except Exception:  # noqa: BLE001 - expired meanwhile (another drainer may hold it now)
        pass


def _schedule_retry(lane, config):
    """Queue a drain of `lane` for when its earliest retry is due (RQ's scheduler, or a timer
    of the in-process worker); the maintenance sweep catches any that is lost."""
    when = events.next_retry(lane)
    if when is None:
        return
    seconds = max(0.0, (when - utcnow()).total_seconds())
    if backend().flag(f"drain:{lane}:retry:{int(when.timestamp())}", seconds + 60):
        enqueue_in(seconds + 0.05, drain_job, lane)


@on_worker_start
def resume_events(app):
    """Lanes with events due (stored by a stopped process, or retries whose time has come)
    get a drain queued: at every worker start and maintenance round. Events younger than a
    few seconds are left to the drain their arrival queued."""
    for lane in events.due_lanes(older_than=timedelta(seconds=5)):
        request_drain(lane)


def _reply(status, message, **extra):
    return jsonify({"message": message, **extra}), status


def _raw_body():
    """The body as sent (the signature covers these exact bytes); 413 when over the limit."""
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"]
    return request.get_data(cache=False)


def _accept(gateway, event_id, event_type, occurred_at, raw, event):
    lane = events.lane_of(gateway, event)
    row_id, new = events.store_event(gateway, event_id, event_type, occurred_at,
                                     raw.decode("utf-8"), lane=lane)
    if new:
        request_drain(lane)
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
    return _accept("stripe", event_id, event_type, created, raw, event)


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
    return _accept("paypal", event_id, event_type, created, raw, event)


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
