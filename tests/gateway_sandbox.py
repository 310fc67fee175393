"""The tests' Stripe and PayPal: the sandbox (sandbox/), one loopback server for the run,
a fresh sandbox state for each test; the panel reaches it only through its adapters' base-URL
settings. Payments made by tests/factories.py exist at the sandbox too (same references), as
they would at the gateway; views below show a test what the sandbox holds and did."""
from collections import Counter

import pytest

from sandbox import Server
from sandbox.core import STRIPE_API_KEY

_active = {"server": None}


@pytest.fixture(scope="session")
def _sandbox_http():
    server = Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(_sandbox_http):
    """The running sandbox server with a clean state; `.sandbox` is its state."""
    sb = _sandbox_http.reset()
    sb.hang_seconds = 0  # a "timeout" fault is a lost answer, at once (tests/fakes/faults)
    _active["server"] = _sandbox_http
    try:
        yield _sandbox_http
    finally:
        _active["server"] = None
        sb.latency = 0.0
        sb.deliveries.paused = True


def active():
    """The sandbox of the running test, or None."""
    server = _active["server"]
    return server.sandbox if server else None


def seed_payment(tx, customer):
    """The payment `tx` at the sandbox (unless it is there already), as the gateway has it."""
    sb = active()
    if sb is None or tx.gateway not in ("stripe", "paypal") or not tx.gateway_ref:
        return
    from sandbox import mirror
    ref = tx.gateway_ref
    with sb.lock:
        if tx.gateway == "stripe":
            known = ref in sb.stripe.payment_intents or ref in sb.stripe.charges
            if not known and ref.startswith(("pi_", "ch_", "py_")):
                mirror._stripe_payment(sb, tx, customer, [])
            return
        if ref in sb.paypal.captures or ref in sb.paypal.sales:
            return
        payer = customer.paypal_payer_id
        if payer not in sb.paypal.payers:
            payer = sb.paypal.payer(email=customer.email, name=customer.name,
                                    country=customer.country, ref=payer)["payer_id"]
        sb.paypal.capture(payer=payer, amount=tx.amount_cents, currency=tx.currency,
                          created=mirror.ts(tx.created_at), description=tx.description,
                          status=mirror._PAYPAL_CAPTURE.get(tx.status, "PENDING"),
                          settlement=mirror._settlement(tx), ref=ref, custom_id=str(tx.id))


def stripe_settings(server, **extra):
    """The app settings that point the Stripe adapter at `server`."""
    return {"STRIPE_API_KEY": STRIPE_API_KEY, "STRIPE_API_BASE": server.stripe_base, **extra}


class _Refused(dict):
    """payment ref -> message: the payment's charge is disputed at the sandbox (Stripe then
    refuses its refunds: "charged back"); clear() settles the disputes."""

    def __init__(self, sb):
        super().__init__()
        self._sb = sb

    def _charge(self, ref):
        stripe = self._sb.stripe
        pi = stripe.payment_intents.get(ref)
        return stripe.charges[pi["latest_charge"] if pi else ref]

    def __setitem__(self, ref, message):
        with self._sb.lock:
            self._charge(ref)["disputed"] = True
        super().__setitem__(ref, message)

    def clear(self):
        with self._sb.lock:
            for ref in self:
                self._charge(ref)["disputed"] = False
        super().clear()


class StripeBulkView:
    """The sandbox's Stripe as the bulk-job tests look at it: refunds made per payment,
    refund requests received per payment; `delay`, `rate_limited` and `refused` set up a
    slow gateway, 429 answers and charged-back payments."""

    def __init__(self, server):
        self.server, self.sb = server, server.sandbox
        self.url, self.api_key = server.stripe_base, STRIPE_API_KEY
        self.refused = _Refused(self.sb)

    @property
    def delay(self):
        return self.sb.latency

    @delay.setter
    def delay(self, seconds):
        self.sb.latency = seconds

    @property
    def rate_limited(self):
        return self.sb.faults["stripe"].count(429)

    @rate_limited.setter
    def rate_limited(self, times):
        self.sb.add_fault("stripe", 429, times)

    def _ref(self, refund):
        pi = refund.get("payment_intent")
        return pi if pi in self.sb.stripe.payment_intents else refund["charge"]

    @property
    def made(self):
        with self.sb.lock:
            return [r for r in self.sb.stripe.refunds.values() if r["status"] != "failed"]

    @property
    def refunds(self):
        return Counter(self._ref(r) for r in self.made)

    @property
    def requests(self):
        with self.sb.lock:
            calls = [c for c in self.sb.calls if (c.vendor, c.method, c.path) ==
                     ("stripe", "POST", "/v1/refunds")]
        return Counter(c.params.get("payment_intent") or c.params.get("charge")
                       for c in calls)


@pytest.fixture
def stripe_bulk(sandbox):
    return StripeBulkView(sandbox)
