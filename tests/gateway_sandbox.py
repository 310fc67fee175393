"""The tests' Stripe and PayPal: the sandbox (sandbox/), one loopback server for the run,
a fresh sandbox state for each test; the panel reaches it only through its adapters' base-URL
settings. Payments made by tests/factories.py exist at the sandbox too (same references), as
they would at the gateway; views below show a test what the sandbox holds and did."""
from collections import Counter

import pytest

from sandbox import Server
from sandbox.core import STRIPE_API_KEY
from sandbox.server import LOST_ANSWER

_active = {"server": None}
#: the faults the subscription tests put each change through (sandbox.core.FAULTS: all)
FAULTS = ("timeout", "reset", 404, 409, 422, 429, 500)
#: the vendor acts, then answers 500 anyway (a change applied but reported as failed)
APPLIED_500 = "applied_500"
#: the answer waits until release() (a slow gateway; the sandbox's `holding` is set)
HOLD = "hold"


def lost_answers():
    """Make requests raise ReadTimeout at once for answers the sandbox marks lost (a
    "timeout" fault with hang_seconds 0): the vendor acted, the client never heard (what a
    timeout is), without waiting for one."""
    import requests
    from requests.adapters import HTTPAdapter
    if getattr(HTTPAdapter.send, "_lost_answers", False):
        return
    send = HTTPAdapter.send

    def send_or_lose(self, request, **kwargs):
        response = send(self, request, **kwargs)
        if response.headers.get(LOST_ANSWER):
            response.close()
            raise requests.exceptions.ReadTimeout(
                f"(test) {request.url}: read timed out", request=request)
        return response
    send_or_lose._lost_answers = True
    HTTPAdapter.send = send_or_lose


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
    sb.hang_seconds = 0  # a "timeout" fault is a lost answer, at once (lost_answers())
    _active["server"] = _sandbox_http
    try:
        yield _sandbox_http
    finally:
        _active["server"] = None
        sb.latency = 0.0
        sb.release()  # no answer stays held after its test


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


class FaultQueue:
    """The faults the sandbox answers the next calls to `vendor` with (reads: GETs)."""

    def __init__(self, sb, vendor, reads=False):
        self.sb, self.vendor, self.reads = sb, vendor, reads

    def add(self, fault, times=1):
        self.sb.add_fault(self.vendor, fault, times, reads=self.reads)

    @property
    def holding(self):
        return self.sb.holding

    def release(self):
        """Let held answers go (lost answers are lost at once)."""
        self.sb.release()


class _Calls:
    """What a test reads of a vendor's calls: `calls` (the sandbox's log, both vendors)."""

    def __init__(self, sb):
        self.sb = sb

    @property
    def calls(self):
        return self.sb.calls

    def release(self):
        self.sb.release()


class StripeSubscriptionsView:
    """The sandbox's Stripe subscriptions as the subscription tests look at them."""

    def __init__(self, server):
        self.server = server
        self.sb = sb = server.sandbox
        self.faults, self.read_faults = FaultQueue(sb, "stripe"), FaultQueue(sb, "stripe", True)
        self.prices, self.subscriptions = sb.stripe.prices, sb.stripe.subscriptions
        self.effects = sb.stripe.effects
        self._fake = _Calls(sb)

    def add_price(self, amount, currency="eur", interval="month", interval_count=1,
                  product=None):
        with self.sb.lock:
            return self.sb.stripe.price(amount=amount, currency=currency, interval=interval,
                                        interval_count=interval_count, product=product)

    def add_subscription(self, price, period_start, period_end, status="active"):
        with self.sb.lock:
            cus = self.sb.stripe.customer(email="ada@example.com", name="Ada Lovelace")
            return self.sb.stripe.subscription(
                customer=cus["id"], price=price, status=status, start=period_start,
                period_start=period_start, period_end=period_end)["id"]

    @property
    def invoices(self):
        """The invoices a change made at once (always_invoice), with their lines."""
        with self.sb.lock:
            return [dict(inv, lines=inv["lines"]["data"])
                    for inv in self.sb.stripe.invoices.values()
                    if inv["billing_reason"] == "subscription_update"]

    @property
    def tax_rate_bp(self):
        return self.sb.stripe.tax_rate_bp

    @tax_rate_bp.setter
    def tax_rate_bp(self, value):
        self.sb.stripe.tax_rate_bp = value

    @property
    def customer_balance(self):
        return next((c["balance"] for c in self.sb.stripe.customers.values()), 0)

    @customer_balance.setter
    def customer_balance(self, cents):
        """Every customer's balance (Stripe's sign: negative is a credit they hold)."""
        with self.sb.lock:
            for cus in self.sb.stripe.customers.values():
                cus["balance"] = cents

    @property
    def card_declines(self):
        return bool(self.sb.stripe.declining)

    @card_declines.setter
    def card_declines(self, flag):
        """Every customer's card is declined (True) or pays again (False)."""
        with self.sb.lock:
            self.sb.stripe.declining.clear()
            if flag:
                self.sb.stripe.declining.update(self.sb.stripe.customers)


class _PlanPrices:
    """plan id -> (value, currency) of the plan's regular price at the sandbox; settable."""

    def __init__(self, sb):
        self.sb = sb

    def _fixed(self, plan_id):
        cycles = self.sb.paypal.plans[plan_id]["billing_cycles"]
        return [c for c in cycles if c["tenure_type"] == "REGULAR"][0]["pricing_scheme"]

    def __getitem__(self, plan_id):
        fixed = self._fixed(plan_id)["fixed_price"]
        return fixed["value"], fixed["currency_code"]

    def __setitem__(self, plan_id, price):
        from sandbox.paypal_api import cents, money
        value, currency = price
        with self.sb.lock:
            self._fixed(plan_id)["fixed_price"] = money(cents(value, currency), currency)


class PayPalSubscriptionsView:
    """The sandbox's PayPal subscriptions as the subscription tests look at them."""

    def __init__(self, server):
        self.server = server
        self.sb = sb = server.sandbox
        self.faults, self.read_faults = FaultQueue(sb, "paypal"), FaultQueue(sb, "paypal", True)
        self.subscriptions, self.effects = sb.paypal.subscriptions, sb.paypal.effects
        self.plans = _PlanPrices(sb)
        self._fake = _Calls(sb)

    def add_plan(self, value, currency="USD"):
        from sandbox.paypal_api import cents
        with self.sb.lock:
            return self.sb.paypal.plan(name="Membership", amount=cents(value, currency),
                                       currency=currency, interval="month")["id"]

    def add_subscription(self, plan_id, next_billing_time, status="ACTIVE", trial=False):
        """A subscription on plan_id, paid a month before next_billing_time (ISO text)."""
        from sandbox.times import add_interval, parse_iso
        from sandbox.paypal_api import cents
        nxt = parse_iso(next_billing_time)
        start = add_interval(nxt, "month", -1)
        value, currency = self.plans[plan_id]
        with self.sb.lock:
            payer = self.sb.paypal.payer(email="member@example.com", name="Ada Lovelace")
            return self.sb.paypal.subscription(
                plan_id=plan_id, payer=payer["payer_id"], status=status, start=start,
                next_billing=nxt, last_payment=(start + 5, cents(value, currency),
                                                currency), trial=trial)["id"]

    @property
    def prices(self):
        """subscription id -> (value, currency) it is charged now (its override, or plan)."""
        from sandbox.paypal_api import value
        with self.sb.lock:
            return {ref: (value(*self.sb.paypal.price_of(sub)),
                          self.sb.paypal.price_of(sub)[1])
                    for ref, sub in self.subscriptions.items()}

    @property
    def require_approval(self):
        return self.sb.paypal.require_approval

    @require_approval.setter
    def require_approval(self, flag):
        self.sb.paypal.require_approval = flag

    def approve(self, ref):
        with self.sb.lock:
            self.sb.paypal.approve(ref)


def subscriptions_view(server, gateway):
    """The one view of `gateway`'s subscriptions at the test's sandbox."""
    views = server.sandbox.__dict__.setdefault("_test_views", {})
    if gateway not in views:
        views[gateway] = (StripeSubscriptionsView if gateway == "stripe"
                          else PayPalSubscriptionsView)(server)
    return views[gateway]


def refunded_cents(server, gateway, ref):
    """What the gateway has refunded of payment `ref` (its refunds that stand), minor units."""
    sb = server.sandbox
    with sb.lock:
        if gateway == "paypal":
            return sb.paypal.refunded(ref)
        pi = sb.stripe.payment_intents.get(ref)
        charge = pi["latest_charge"] if pi else ref
        return sum(r["amount"] for r in sb.stripe.refunds.values()
                   if r["charge"] == charge and r["status"] == "succeeded")


class VendorView:
    """One vendor of the test's sandbox: `url` (the adapters' base URL), `calls` (the calls
    it received, oldest first), `subs` (its subscriptions' view)."""

    def __init__(self, server, vendor):
        self.server, self.sb, self.vendor = server, server.sandbox, vendor
        self.url = server.stripe_base if vendor == "stripe" else server.paypal_base
        self.subs = subscriptions_view(server, vendor)

    @property
    def calls(self):
        with self.sb.lock:
            return [c for c in self.sb.calls if c.vendor == self.vendor]

    def release(self):
        """Let held answers go (lost answers are lost at once)."""
        self.sb.release()


@pytest.fixture
def stripe_sb(sandbox):
    return VendorView(sandbox, "stripe")


@pytest.fixture
def paypal_sb(sandbox):
    return VendorView(sandbox, "paypal")


class StripeReadsView:
    """Objects the app may read from Stripe, put at the test's sandbox as the webhook tests
    build them; fail(): the next reads answer an HTTP error."""

    STORES = {"customer": "customers", "charge": "charges", "refund": "refunds",
              "dispute": "disputes", "subscription": "subscriptions",
              "balance_transaction": "balance_transactions", "invoice": "invoices",
              "payment_intent": "payment_intents", "price": "prices"}

    def __init__(self, server):
        self.sb, self.url, self.api_key = server.sandbox, server.stripe_base, STRIPE_API_KEY

    def add(self, *objects):
        with self.sb.lock:
            for obj in objects:
                getattr(self.sb.stripe, self.STORES[obj["object"]])[obj["id"]] = obj
        return objects[0] if len(objects) == 1 else objects

    def fail(self, times=1, status=500):
        self.sb.add_fault("stripe", status, times, reads=True)


@pytest.fixture
def stripe_reads(sandbox):
    return StripeReadsView(sandbox)


class _PayPalObjects:
    """path -> resource: what PayPal answers a GET of that path with, kept in the sandbox's
    stores (orders, captures, subscriptions, plans, sales, refunds, disputes)."""

    STORES = {"/v2/checkout/orders/": "orders", "/v2/payments/captures/": "captures",
              "/v1/billing/subscriptions/": "subscriptions", "/v1/billing/plans/": "plans",
              "/v1/payments/sale/": "sales", "/v2/payments/refunds/": "refunds",
              "/v1/customer/disputes/": "disputes"}

    def __init__(self, sb):
        self.sb = sb

    def _store(self, path):
        prefix = next(p for p in self.STORES if path.startswith(p))
        return getattr(self.sb.paypal, self.STORES[prefix]), path[len(prefix):]

    def __setitem__(self, path, obj):
        store, ref = self._store(path)
        with self.sb.lock:
            store[ref] = obj

    def __getitem__(self, path):
        store, ref = self._store(path)
        return store[ref]


class PayPalHooksView:
    """The test's sandbox as PayPal for the webhook and sync tests: `objects` by path,
    `transactions` (search rows older than its own records), the verify calls it got;
    verify_failures: the next verify calls answer 500."""

    def __init__(self, server):
        self.server, self.sb = server, server.sandbox
        self.objects = _PayPalObjects(self.sb)
        self.transactions = self.sb.paypal.history

    def config(self):
        return {**{k: v for k, v in self.server.config().items() if k.startswith("PAYPAL")},
                "PAYPAL_MAX_RETRIES": 0, "PAYPAL_TIMEOUT": 2}

    @property
    def verify_calls(self):
        with self.sb.lock:
            return [c.params for c in self.sb.calls if c.vendor == "paypal" and
                    c.path == "/v1/notifications/verify-webhook-signature"
                    and c.status == 200]

    @property
    def verify_failures(self):
        return self.sb.read_faults["paypal"].count(500)

    @verify_failures.setter
    def verify_failures(self, times):
        self.sb.add_fault("paypal", 500, times, reads=True)


@pytest.fixture
def paypal_hooks(sandbox):
    return PayPalHooksView(sandbox)

@pytest.fixture
def delivering(app):
    """A sandbox of its own and the app on loopback ports, the sandbox sending its signed
    webhooks to the app over HTTP (as the demo runs them)."""
    import threading

    from werkzeug.serving import make_server

    from admin_app.queue import backend
    server = Server().start()
    panel = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=panel.serve_forever, daemon=True).start()
    app.config.update(server.config(f"http://127.0.0.1:{panel.server_port}"),
                      STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=5, PAYPAL_MAX_RETRIES=0,
                      PAYPAL_TIMEOUT=5, WEBHOOK_RETRY_DELAY=0)
    server.sandbox.hang_seconds = 0
    try:
        yield server
    finally:
        server.sandbox.deliveries.drain(10)
        panel.shutdown()
        backend().wait_idle()
        server.stop()


def wait_for_delivery(condition, seconds=20):
    """Whether `condition()` came true within `seconds`, the app's jobs run and its session
    read afresh each time (a webhook arrives on another thread)."""
    import time

    from admin_app.queue import backend
    from models import db
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        backend().wait_idle()
        db.session.rollback()
        db.session.expire_all()
        if condition():
            return True
        time.sleep(0.2)
    return False
