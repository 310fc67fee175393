"""The sandbox's shared state: one lock, a movable clock, fault injection, and the webhook
deliveries (signed as each vendor signs them) to the panel."""
import json
import queue
import threading
import time
from collections import namedtuple
from datetime import datetime, timezone

import requests

from sandbox.signing import paypal_headers, stripe_signature_header
from sandbox.times import iso

#: faults a test can queue for the next call that changes something (or, with reads=True,
#: the next GET): "reset" (the vendor acts, then the connection drops without an answer),
#: "timeout" (the vendor acts, then answers after `hang_seconds`), an HTTP status (the
#: vendor's error answer, nothing done), "decline" (the vendor's "no" for that call: card
#: declined, status invalid), "applied_500" (the vendor acts, then answers 500 anyway),
#: "hold" (the answer, what the vendor held when asked, waits until release(): a slow
#: gateway; `holding` is set meanwhile).
FAULTS = ("timeout", "reset", "decline", "applied_500", "hold", 400, 404, 409, 422, 429, 500,
          502, 503)
#: an error answer with the vendor's own fields (fail()): Stripe's type / code / message /
#: param, PayPal's name / issue / description; headers added to the answer (Retry-After)
VendorError = namedtuple("VendorError", "status fields headers")


class Call(namedtuple("Call", "vendor method path headers params status")):
    """One call the sandbox received: headers (case-insensitive), params as the handler saw
    them (Stripe's form nested, PayPal's JSON body), the HTTP status it answered."""

    @property
    def form(self):
        """Stripe's parameters as they were sent: items[0][price]=…"""
        return dict(_flat(self.params))

    @property
    def body(self):
        return self.params


def _flat(node, prefix=""):
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, (dict, list)):
            yield from _flat(value, name)
        else:
            yield name, value


STRIPE_API_KEY = "sk_test_memberdesk_sandbox"
STRIPE_WEBHOOK_SECRET = "whsec_memberdesk_sandbox"
PAYPAL_CLIENT_ID = "memberdesk-sandbox-client"
PAYPAL_CLIENT_SECRET = "memberdesk-sandbox-secret"
PAYPAL_WEBHOOK_ID = "8PT597110X687430LKGECATA"


class Sandbox:
    """Stripe and PayPal in one process: `stripe` and `paypal` hold their state; everything
    runs under `lock`; `now()` is the sandbox's own (movable) time."""

    def __init__(self, *, stripe_key=STRIPE_API_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET,
                 paypal_client=(PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET),
                 paypal_webhook_id=PAYPAL_WEBHOOK_ID):
        from sandbox.paypal_api import PayPal
        from sandbox.stripe_api import Stripe
        self.lock = threading.RLock()
        self.offset = 0  # seconds the clock was moved forward
        #: None: the clock is real time plus `offset`; a Unix time: the clock stands there
        #: (plus `offset`) and only advance() moves it — no outcome depends on real time (a
        #: simulation's histories replay)
        self.frozen_at = None
        self.clock_listeners = []  # called with the offset after every move
        self.url = None  # set by the server: http://127.0.0.1:PORT
        self.stripe_key, self.webhook_secret = stripe_key, webhook_secret
        self.paypal_client, self.paypal_webhook_id = paypal_client, paypal_webhook_id
        self.targets = {}  # "stripe" / "paypal" -> the panel's webhook URL
        self.faults = {"stripe": [], "paypal": []}
        self.read_faults = {"stripe": [], "paypal": []}
        #: every call received: Call(vendor, method, path, headers, params, status)
        self.calls = []
        #: seconds every vendor call takes before it is handled (a slow gateway)
        self.latency = 0.0
        self.holding = threading.Event()  # an answer is held ("hold")
        self.released = threading.Event()  # held answers may go
        self.exchanges = []  # (vendor, method, path, status, body) when recording is on
        self.record = False
        #: how late a "timeout" fault answers; 0: at once, marked lost (tests' transport)
        self.hang_seconds = 2.0
        self.deliveries = Deliveries(self)
        self.stripe = Stripe(self)
        self.paypal = PayPal(self)

    # --- the clock -------------------------------------------------------------------
    def now(self):
        """The sandbox's Unix time (real or frozen time plus how far the clock was moved)."""
        return self._base() + self.offset

    def _base(self):
        return int(time.time()) if self.frozen_at is None else int(self.frozen_at)

    def now_dt(self):
        return datetime.fromtimestamp(self.now(), timezone.utc)

    def advance(self, seconds):
        """Move the clock forward; renewals, period-end cancellations and failed renewals
        that fall due happen in order, each announced by webhooks. Returns what happened."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self.lock:
            target = self.now() + int(seconds)
            happened = []
            while True:
                due = self._next_due(target)
                if due is None:
                    break
                when, vendor, ref = due
                self.offset = max(self.offset, when - self._base())
                happened.extend(getattr(self, vendor).fall_due(ref, when))
            self.offset = target - self._base()
            for listener in self.clock_listeners:
                listener(self.offset)
        return happened

    def _next_due(self, until):
        candidates = [(when, vendor, ref) for vendor in ("stripe", "paypal")
                      for when, ref in getattr(self, vendor).due(until)]
        return min(candidates) if candidates else None

    # --- faults ------------------------------------------------------------------------
    def add_fault(self, vendor, fault, times=1, reads=False):
        """Answer the next `times` calls that change something at `vendor` (reads=True: the
        next GETs) with `fault`."""
        if not isinstance(fault, VendorError) and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        with self.lock:
            (self.read_faults if reads else self.faults)[vendor].extend([fault] * times)
            if fault == "hold":
                self.released.clear()

    def fail(self, vendor, status, *, times=1, reads=False, headers=None, **fields):
        """Answer the next `times` changes (reads=True: reads) at `vendor` with its error
        answer for HTTP `status`, nothing done: Stripe's fields error_type, code, message,
        param; PayPal's name, issue, description (unset: the vendor's usual ones)."""
        self.add_fault(vendor, VendorError(int(status), fields, dict(headers or {})), times,
                       reads=reads)

    def release(self):
        """Let held answers go (at most 30 s are they held anyway)."""
        self.released.set()

    def next_fault(self, vendor, reads=False):
        queue_ = (self.read_faults if reads else self.faults)[vendor]
        with self.lock:
            return queue_.pop(0) if queue_ else None

    # --- webhooks ----------------------------------------------------------------------
    def stripe_event(self, type_, obj, previous=None):
        """Queue a Stripe event (its object as it is now) for the panel."""
        event = {"id": _stripe_id("evt_1"), "object": "event", "api_version": "2026-10-28",
                 "created": self.now(), "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "type": type_,
                 "data": {"object": json.loads(json.dumps(obj))}}
        if previous:
            event["data"]["previous_attributes"] = previous
        self.stripe.events.append(event)
        self.deliveries.put("stripe", event)
        return event

    def paypal_event(self, type_, resource, resource_type):
        from sandbox import ids
        event = {"id": ids.event_id(), "event_version": "1.0",
                 "create_time": iso(self.now()), "resource_type": resource_type,
                 "resource_version": "2.0", "event_type": type_,
                 "summary": type_.replace(".", " ").capitalize(),
                 "resource": json.loads(json.dumps(resource)),
                 "links": [{"href": f"{self.url}/paypal/v1/notifications/webhooks-events/",
                            "rel": "self", "method": "GET"}]}
        self.paypal.events.append(event)
        self.deliveries.put("paypal", event)
        return event

    def stripe_signature(self, body):
        """The Stripe-Signature header for `body` (Stripe's scheme; real time, as Stripe
        signs when it sends)."""
        return stripe_signature_header(body, self.webhook_secret)

    def paypal_signature_headers(self, body, webhook_id=None):
        """The PAYPAL-* headers of a delivery; only the sandbox's verify call accepts them,
        as only PayPal verifies PayPal's certificate signature."""
        return paypal_headers(body, webhook_id or self.paypal_webhook_id)


class Deliveries:
    """Sends events to the panel in order, on a thread of their own (as the vendors do,
    after answering the call that caused them); retried a few times like theirs."""

    ATTEMPTS = 4

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.queue = queue.Queue()
        self.log = []  # (vendor, event id, type, HTTP status or error)
        self.paused = False  # tests: keep events queued (pending()) instead of sending
        self._thread = None
        self._lock = threading.Lock()

    def put(self, vendor, event):
        if not self.sandbox.targets.get(vendor):
            return
        self.queue.put((vendor, event))
        if not self.paused:
            self._start()

    def _start(self):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="sandbox-webhooks")
                self._thread.start()

    def _run(self):
        while True:
            try:
                vendor, event = self.queue.get(timeout=1)
            except queue.Empty:
                return
            try:
                self._send(vendor, event)
            finally:
                self.queue.task_done()

    def _send(self, vendor, event):
        body = json.dumps(event, separators=(",", ":")).encode()
        if vendor == "stripe":
            headers = {"Stripe-Signature": self.sandbox.stripe_signature(body)}
        else:
            headers = self.sandbox.paypal_signature_headers(body)
        headers["Content-Type"] = "application/json"
        outcome = None
        for attempt in range(self.ATTEMPTS):
            try:
                response = requests.post(self.sandbox.targets[vendor], data=body,
                                         headers=headers, timeout=10)
                outcome = response.status_code
                if response.status_code < 500:
                    break
            except requests.RequestException as e:
                outcome = type(e).__name__
            time.sleep(0.2 * 2 ** attempt)
        event_id = event.get("id")
        self.log.append((vendor, event_id, event.get("type") or event.get("event_type"),
                         outcome))

    def drain(self, timeout=30):
        """Wait until every queued event was sent (True) or `timeout` passed (False)."""
        self.paused = False
        if not self.queue.empty():
            self._start()
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.queue.unfinished_tasks


def _stripe_id(prefix, length=24):
    from sandbox import ids
    return ids.stripe(prefix, length)
