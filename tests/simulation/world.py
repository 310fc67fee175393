"""The simulation's world: one panel app (its database truncated between histories), one
sandbox of Stripe and PayPal on loopback (its state reset between histories), the webhooks
the sandbox sends held in a mailbox the history delivers from (so that it can duplicate,
reorder, delay or lose them), and the panel's background jobs run when the history says.

Everything goes through the panel's real parts: its action functions, its webhook endpoints
(signed deliveries through the WSGI app), its job runner and its sync. Only the transport of
the webhooks and the timing of the jobs are the history's to choose.
"""
import copy
import json
import os
import secrets
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone

from flask.testing import FlaskClient
from sqlalchemy import text

from admin_app import create_app
from admin_app.queue import ThreadBackend, run_in
from models import db
from models._types import freeze_clock, set_clock_offset
from sandbox import Server, ids
from sandbox.paypal_api import PayPal
from sandbox.server import App
from sandbox.stripe_api import Stripe
from tests.db_reset import empty_tables
from tests.gateway_sandbox import lost_answers

STORE = "USD"
#: where every history's clock starts (Unix time): 12 Feb 2026, 09:00 UTC. The clocks of
#: the sandbox and the panel stand there and move only when the history moves them, so a
#: seed gives the same history every time and a shrunk one replays. (The shop's members
#: joined 5-14 days earlier: one on 29 Jan, renewing on 28 Feb.)
EPOCH = 1770886800
#: the seeds of the sandbox's ids: the shop's, then each history's own
SHOP_IDS, HISTORY_IDS = 17, 18


def _no_disk_wait(url):
    """PostgreSQL: commits that do not wait for the disk (synchronous_commit off: what
    another session sees is the same; only a crash of the server could lose the last
    commits, and the simulation's database is thrown away). A history commits hundreds of
    times."""
    if not url.startswith("postgresql") or "synchronous_commit" in url:
        return url
    return url + ("&" if "?" in url else "?") + "options=-c%20synchronous_commit%3Doff"


class SimQueue(ThreadBackend):
    """The panel's in-process job backend, except that jobs wait in a list until the history
    runs them (in this thread): a drain of the webhook lanes, a bulk job, a retry."""

    def __init__(self, app):
        super().__init__(app)
        self.waiting = []

    def start(self):
        pass

    def enqueue(self, path, args, kwargs, job_id=None):
        self.waiting.append((path, tuple(args), dict(kwargs)))

    def enqueue_in(self, seconds, path, args, kwargs):
        self.waiting.append((path, tuple(args), dict(kwargs)))

    def flag(self, name, seconds):
        """Set `name` for `seconds` of the simulated clock (the thread backend's flags run on
        real time, which would make the history depend on how fast it ran)."""
        now = self.clock()
        if self._flags.get(name, 0) > now:
            return False
        self._flags[name] = now + seconds
        return True

    def clock(self):
        return 0

    def run(self, keep=lambda path: True, rounds=50):
        """Run the waiting jobs (and what they queue) whose path `keep` accepts."""
        for _ in range(rounds):
            now = [job for job in self.waiting if keep(job[0])]
            if not now:
                return
            self.waiting = [job for job in self.waiting if not keep(job[0])]
            for path, args, kwargs in now:
                run_in(self.app, path, args, kwargs)


class FreshContextClient(FlaskClient):
    """Each request in an app context of its own, as in production."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class World:
    """The panel and the sandbox, built once per process and reset for every history."""

    def __init__(self, database_url=None, migrate=True):
        lost_answers()  # a "timeout" fault: the vendor acts, the client's read times out
        # the database in memory-backed files where there are (a commit is no disk sync)
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.tmp = tempfile.mkdtemp(prefix="memberdesk-sim-", dir=shm)
        self.database_url = _no_disk_wait(database_url or f"sqlite:///{self.tmp}/sim.db")
        self.server = Server().start()
        self.sb = self.server.sandbox
        self.sb.hang_seconds = 0
        config = {**self.server.config(), "TESTING": True,
                  "DATABASE_URL": self.database_url, "SECRET_KEY": "simulation",
                  "STORE_CURRENCY": STORE, "SERVER_NAME": "localhost",
                  "MAIL_OUTBOX": os.path.join(self.tmp, "outbox"),
                  "AVATAR_DIR": os.path.join(self.tmp, "avatars"),
                  "STRIPE_MAX_RETRIES": 0, "PAYPAL_MAX_RETRIES": 0,
                  "STRIPE_TIMEOUT": 5, "PAYPAL_TIMEOUT": 5,
                  "STRIPE_RATE_LIMIT": 100000.0, "PAYPAL_RATE_LIMIT": 100000.0,
                  "WEBHOOK_RETRY_DELAY": 0, "SYNC_RATE_LIMIT": 100000,
                  "RATELIMIT_KEY_PREFIX": f"sim-{secrets.token_hex(4)}"}
        if self.database_url.startswith("postgresql"):
            # the panel's engine settings (admin_app/config.py), less the ping before each
            # use of a pooled connection: the simulation's server never drops one, and a
            # history takes some 150 connections from the pool
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": False, **(
                {"connect_args": {"prepare_threshold": None}}
                if self.database_url.startswith("postgresql+psycopg") else {})}
        self.app = create_app(config)
        self.app.test_client_class = FreshContextClient
        self.queue = SimQueue(self.app)
        self.queue.clock = self.sb.now
        self.sb.frozen_at = EPOCH
        # the panel's clock half a second past the sandbox's whole seconds, as a real
        # server's clock (with microseconds) is past the second a gateway stamps
        freeze_clock(datetime.fromtimestamp(EPOCH + 0.5, timezone.utc))
        self.app.extensions["memberdesk_queue"] = self.queue
        self.client = self.app.test_client()
        if migrate:
            self._migrate()
        self.sb.clock_listeners.append(set_clock_offset)
        self.mailbox = []  # (vendor, event) sent by the sandbox, not yet delivered
        self.lost = {"stripe": 0, "paypal": 0}
        self._snapshot = None
        self.access_reported = set()
        self.sync_errors = []

    def _migrate(self):
        from flask_migrate import upgrade
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()

    def close(self):
        freeze_clock(None)
        set_clock_offset(0)
        ids.seed(None)
        self.server.stop()
        with self.app.app_context():
            db.engine.dispose()

    # --- between histories --------------------------------------------------------------
    def start_history(self, build):
        """Empty tables and sandbox, then the shop: built by `build(world)` the first time,
        restored from that first build's copy afterwards (the same rows, the same gateway
        objects; a history is as cheap as its own steps)."""
        self.reset()
        if self._snapshot is None:
            ids.seed(SHOP_IDS)
            result = build(self)
            self._snapshot = (self._take(), result)
        else:
            self._restore(self._snapshot[0])
            self.listen()
        ids.seed(HISTORY_IDS)  # the same ids in the same history, whichever ran before
        return self._snapshot[1]

    _SANDBOX_SKIP = ("sb", "routes", "_lock")

    def _take(self):
        with self.app.app_context():
            rows = {t.name: [dict(r._mapping) for r in db.session.execute(t.select())]
                    for t in db.metadata.sorted_tables}
            db.session.remove()
        with self.sb.lock:
            vendors = {name: copy.deepcopy({k: v for k, v in vars(getattr(self.sb, name))
                                            .items() if k not in self._SANDBOX_SKIP})
                       for name in ("stripe", "paypal")}
        return rows, vendors, self.sb.offset

    def _restore(self, snapshot):
        rows, vendors, offset = snapshot
        with self.app.app_context():
            for table in db.metadata.sorted_tables:
                if rows[table.name]:
                    db.session.execute(table.insert(), rows[table.name])
            if db.engine.dialect.name == "postgresql":
                for table in db.metadata.sorted_tables:
                    if "id" in table.c and rows[table.name]:
                        db.session.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                            f"(SELECT max(id) FROM \"{table.name}\"))"))
            db.session.commit()
            db.session.remove()
        with self.sb.lock:
            for name, state in vendors.items():
                vendor = getattr(self.sb, name)
                for key, value in copy.deepcopy(state).items():
                    current = getattr(vendor, key, None)
                    if isinstance(current, list) and isinstance(value, list):
                        current[:] = value
                    elif isinstance(current, (dict, set)) and type(current) is type(value):
                        current.clear()  # in place: PayPal's routes hold its dicts
                        current.update(value)
                    else:
                        setattr(vendor, key, value)
            self.sb.offset = offset
        set_clock_offset(offset)

    def reset(self):
        """Empty tables, a sandbox with nothing in it, the clock back at EPOCH."""
        with self.app.app_context():
            empty_tables()
            db.session.remove()
        sb = self.sb
        with sb.lock:
            tokens = sb.paypal.tokens
            Stripe.__init__(sb.stripe, sb)  # same objects: the server's routes still point here
            PayPal.__init__(sb.paypal, sb)
            sb.paypal.tokens = tokens
            self.server._server.app = App(sb)  # PayPal's routes hold its dicts
            sb.faults = {"stripe": [], "paypal": []}
            sb.calls.clear()
            sb.offset = 0
            sb.targets = {}
            while not sb.deliveries.queue.empty():
                sb.deliveries.queue.get_nowait()
                sb.deliveries.queue.task_done()
        set_clock_offset(0)
        self.queue.waiting = []
        self.queue._flags, self.queue._locks = {}, {}
        self.mailbox = []
        self.lost = {"stripe": 0, "paypal": 0}
        self.access_reported = set()
        self.sync_errors = []

    def listen(self):
        """From now on the sandbox's webhooks wait in the mailbox for the history."""
        self.sb.deliveries.paused = True
        self.sb.targets = {"stripe": "http://panel/webhooks/stripe",
                           "paypal": "http://panel/webhooks/paypal"}

    # --- the panel ------------------------------------------------------------------------
    @contextmanager
    def context(self):
        """An app context of its own (its own session), as a request or a job has."""
        with self.app.app_context():
            try:
                yield
            finally:
                db.session.rollback()
                db.session.remove()

    def deps(self):
        from admin_app.composition import deps_from_app
        return deps_from_app(self.app)

    def run_jobs(self):
        """The worker runs what is queued: webhook lanes drained, jobs run or resumed."""
        self.queue.run()

    # --- webhooks ---------------------------------------------------------------------------
    def collect(self):
        """Move what the sandbox sent into the mailbox (in the order it sent them)."""
        q = self.sb.deliveries.queue
        while not q.empty():
            self.mailbox.append(q.get_nowait())
            q.task_done()
        return len(self.mailbox)

    def deliver(self, vendor, event):
        """POST one event, signed as its vendor signs, to the panel's endpoint."""
        body = json.dumps(event, separators=(",", ":")).encode()
        if vendor == "stripe":
            headers = {"Stripe-Signature": self.sb.stripe_signature(body)}
        else:
            headers = self.sb.paypal_signature_headers(body)
        response = self.client.post(f"/webhooks/{vendor}", data=body, headers=headers,
                                    content_type="application/json")
        assert response.status_code < 300, (response.status_code, response.get_data()[:500])
        return response

    def deliver_all(self):
        """Every event in the mailbox, in order, then the lanes are drained (repeat until
        nothing new arrives: applying an event may cause none, the sandbox acts only when
        asked)."""
        for _ in range(20):
            self.collect()
            if not self.mailbox and not self.queue.waiting:
                return
            batch, self.mailbox = self.mailbox, []
            for vendor, event in batch:
                self.deliver(vendor, event)
            self.run_jobs()

    # --- the sync ----------------------------------------------------------------------------
    def sync(self, gateway, dry_run=False):
        """`flask sync GATEWAY [--dry-run]`'s work, in process: its Summary."""
        from actions.sync import backfill
        from actions.sync.events import reader_for
        from actions.sync.sources import PayPalSource, StripeSource
        with self.context():
            deps = self.deps()
            reader = reader_for(gateway, deps)
            source = (StripeSource if gateway == "stripe" else PayPalSource)(deps, reader, None)
            return backfill.run(source, dry_run=dry_run)

    def now(self):
        return datetime.fromtimestamp(self.sb.now(), timezone.utc)
