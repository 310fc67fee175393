"""The randomized histories: a hypothesis RuleBasedStateMachine whose rules are what happens
to a shop — the admins' actions in the panel, what members and the gateways do, what the
network does to webhooks and answers, and the clock. After every simulated day the
members' access is compared with the gateways'; after the history, a final delivery, the
nightly sync and the worker's restart, the money invariants (invariants.py) must hold."""
import dataclasses
import sys
from datetime import timedelta

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from sqlalchemy import select, update

from sandbox import control
from sandbox.times import DAY
from tests.simulation import invariants, shop
from tests.simulation.world import STORE

PICK = st.integers(min_value=0, max_value=10_000)
PRORATIONS = ("none", "create_prorations", "always_invoice")
PRICES = (1500, 2900, 3900, 5900, 12900)
#: how long a step takes on the simulated clock (what happens in it shares one second)
STEP_SECONDS = 1


class WorkerKilled(BaseException):
    """The worker process dies (kill -9): nothing below it catches this."""


class Violation(AssertionError):
    pass


class History(RuleBasedStateMachine):
    """One history of the shop; `world`, `min_steps` and `max_steps` are set by the runner."""

    world = None
    min_steps, max_steps = 20, 200
    counts = {"histories": 0, "steps": 0}
    progress = 0
    generated = generated_steps = None  # the counts when the first violation was found
    keep_going = False  # count violating histories instead of stopping at the first
    failures = []
    _shown = _reported = 0

    def __init__(self):
        super().__init__()
        self.w = type(self).world
        invariants.reset()
        self.owner_id = self.w.start_history(shop.build)
        self.length = self.min_steps
        self.steps = 0
        self.log = ["state = Run()"]
        self.problems = []
        self.intents = 0
        self.keys = 0
        counts = type(self).counts
        if self.progress and counts["histories"] % self.progress == 0 and \
                counts["histories"] != self._reported:
            type(self)._reported = counts["histories"]
            print(f"{counts['histories']} histories, {counts['steps']} steps, "
                  f"{len(type(self).failures)} violations", file=sys.stderr, flush=True)
            for problems in type(self).failures[self._shown:]:
                print("violation: " + "\n".join(problems), file=sys.stderr, flush=True)
            type(self)._shown = len(type(self).failures)

    # --- the frame -----------------------------------------------------------------------
    @initialize(length=st.integers(min_value=20, max_value=200))
    def history_length(self, length):
        """How many steps this history takes (20-200; the runner may narrow it)."""
        self.length = min(max(length, self.min_steps), self.max_steps)
        self.log.append(f"state.history_length(length={length})")

    def live(self):
        return self.steps < self.length

    def _step(self):
        frame = sys._getframe(1)  # the rule, as it was called: the history can be replayed
        code = frame.f_code
        args = ", ".join(f"{k}={frame.f_locals[k]!r}"
                         for k in code.co_varnames[1:code.co_argcount])
        self.log.append(f"state.{frame.f_code.co_name}({args})")
        with self.w.sb.lock:
            invariants.remember_paid_until(self.w.sb)
        self.w.sb.advance(STEP_SECONDS)  # the clock stands still only within a step
        with self.w.sb.lock:  # a renewal that fell due meanwhile is paid for (the step may
            invariants.remember_paid_until(self.w.sb)  # cancel it next)
        self.steps += 1
        type(self).counts["steps"] += 1

    @precondition(lambda self: not self.live())
    @rule()
    def history_over(self):
        """Nothing more happens (the history has had its steps)."""

    def teardown(self):
        if self.w is None or not hasattr(self, "owner_id"):
            return
        type(self).counts["histories"] += 1  # a history is counted once it was checked
        problems = self.problems + invariants.final(self.w, self)
        if problems and self.keep_going:  # counted, and the run goes on
            type(self).failures.append(problems + ["history:"] + self.log)
            return
        if problems:
            cls = type(self)
            if cls.generated is None:
                cls.generated, cls.generated_steps = (cls.counts["histories"],
                                                      cls.counts["steps"])
            raise Violation("\n".join(problems[:20]))

    # --- helpers ---------------------------------------------------------------------------
    def key(self):
        """A form's request key: counted, not random (the same history, the same keys)."""
        self.keys += 1
        return f"{self.keys:032x}"

    def act(self, what, call):
        """Run a panel action as the owner, in a context of its own: an ActionError is the
        panel saying no (fine); anything else is what a 500 would be."""
        from actions.errors import ActionError
        from models import AdminUser, db
        with self.w.context():
            actor = db.session.get(AdminUser, self.owner_id)
            try:
                return call(self.w.deps(), actor)
            except ActionError as e:
                return e
            except Exception as e:  # noqa: BLE001 - the violation names it
                self.problems.append(f"step {self.steps}: {what} raised "
                                     f"{type(e).__name__}: {e}")
                return e

    def rows(self, model, *where):
        from models import db
        with self.w.context():
            return db.session.scalars(select(model.id).where(*where)
                                      .order_by(model.id)).all()

    def pick_payment(self, pick, gateway=None):
        from models import Transaction
        where = [Transaction.status == "succeeded"]
        if gateway:
            where.append(Transaction.gateway == gateway)
        ids = self.rows(Transaction, *where)
        return ids[pick % len(ids)] if ids else None

    def pick_sub(self, pick, gateway=None):
        from models import Subscription
        ids = self.rows(Subscription, *([Subscription.gateway == gateway] if gateway else []))
        return ids[pick % len(ids)] if ids else None

    def ref_of(self, model, row_id, field):
        from models import db
        with self.w.context():
            return getattr(db.session.get(model, row_id), field)

    # --- the admins, in the panel ------------------------------------------------------------
    @precondition(live)
    @rule(pick=PICK, full=st.booleans(), percent=st.integers(1, 100),
          twice=st.booleans())
    def refund(self, pick, full, percent, twice):
        """Refund a payment, all that is left or part; `twice`: the form sent twice."""
        from actions.refund import refund_transaction
        from models import Transaction, db
        self._step()
        tx_id = self.pick_payment(pick)
        if tx_id is None:
            return
        with self.w.context():
            left = db.session.get(Transaction, tx_id).refundable_cents
        amount = None if full else max(1, left * percent // 100)
        key = self.key()
        self.intents += 1
        for _ in range(2 if twice else 1):
            self.act("refund", lambda deps, actor: refund_transaction(
                deps, actor, tx_id, amount, "requested_by_customer", request_key=key))

    @precondition(live)
    @rule(pick=PICK)
    def check_refund(self, pick):
        """“Check refund” on a refund still pending."""
        from actions.refund import check_refund
        from models import Refund
        self._step()
        ids = self.rows(Refund, Refund.status == "pending")
        if ids:
            refund_id = ids[pick % len(ids)]
            self.act("check refund", lambda deps, actor: check_refund(deps, actor, refund_id))

    @precondition(live)
    @rule(pick=PICK, affiliate=st.booleans())
    def edit_sale(self, pick, affiliate):
        """Edit Sale: the affiliate, with the commission the form suggests (or none)."""
        from actions.affiliate import set_sale_affiliate
        from actions.commission import sale_base
        from models import Affiliate, Transaction, db
        self._step()
        tx_id = self.pick_payment(pick)
        if tx_id is None:
            return
        with self.w.context():
            aff = db.session.scalars(select(Affiliate)).first()
            tx = db.session.get(Transaction, tx_id)
            aff_id = aff.id if affiliate else None
            cents = aff.commission_for(sale_base(tx)) if affiliate else 0
        self.act("edit sale", lambda deps, actor: set_sale_affiliate(
            deps, actor, tx_id, aff_id, cents))

    @precondition(live)
    @rule(pick=PICK, price=st.sampled_from(PRICES), now=st.booleans())
    def change_price(self, pick, price, now):
        """Change Price: from the next renewal, or now with proration (Stripe)."""
        from actions.subscription_price import change_subscription_price
        self._step()
        sub_id = self.pick_sub(pick)
        if sub_id is None:
            return
        self.intents += 1
        self.act("change price", lambda deps, actor: change_subscription_price(
            deps, actor, sub_id, price, effective="now" if now else "next_renewal",
            request_key=self.key()))

    @precondition(live)
    @rule(pick=PICK, plan=st.integers(0, 2), proration=st.sampled_from(PRORATIONS))
    def change_plan(self, pick, plan, proration):
        """Change Plan, with each proration option."""
        from actions.subscription_plan import change_subscription_plan
        from models import Plan
        self._step()
        sub_id = self.pick_sub(pick)
        plans = self.rows(Plan)
        if sub_id is None or not plans:
            return
        plan_id = plans[plan % len(plans)]
        self.intents += 1
        self.act("change plan", lambda deps, actor: change_subscription_plan(
            deps, actor, sub_id, plan_id, proration=proration, request_key=self.key()))

    @precondition(live)
    @rule(pick=PICK, now=st.booleans())
    def cancel(self, pick, now):
        """Cancel Subscription: now, or at the end of the period."""
        from actions.subscription_cancel import cancel_subscription
        self._step()
        sub_id = self.pick_sub(pick)
        if sub_id is None:
            return
        from actions.errors import ActionError
        result = self.act("cancel", lambda deps, actor: cancel_subscription(
            deps, actor, sub_id, when="now" if now else "period_end",
            request_key=self.key()))
        if now and not isinstance(result, (ActionError, Exception)):
            # done: "Immediately" ends access now, also where PayPal had cancelled already
            from models import Subscription
            invariants.cancel_now_done(self.ref_of(Subscription, sub_id, "gateway_id"),
                                       self.w.sb.now())

    @precondition(live)
    @rule(pick=PICK)
    def undo_cancel(self, pick):
        """Undo Cancellation."""
        from actions.subscription_cancel import undo_cancel
        self._step()
        sub_id = self.pick_sub(pick)
        if sub_id is not None:
            self.act("undo cancel", lambda deps, actor: undo_cancel(
                deps, actor, sub_id, request_key=self.key()))

    @precondition(live)
    @rule(pick=PICK, days=st.one_of(st.none(), st.integers(1, 45)))
    def pause(self, pick, days):
        """Pause payments, until a date (Stripe) or until resumed."""
        from actions.subscription_pause import pause_subscription
        self._step()
        sub_id = self.pick_sub(pick)
        if sub_id is None:
            return
        until = self.w.now() + timedelta(days=days) if days else None
        self.act("pause", lambda deps, actor: pause_subscription(
            deps, actor, sub_id, resumes_at=until, request_key=self.key()))

    @precondition(live)
    @rule(pick=PICK)
    def resume(self, pick):
        """Resume payments."""
        from actions.subscription_pause import resume_subscription
        self._step()
        sub_id = self.pick_sub(pick)
        if sub_id is not None:
            self.act("resume", lambda deps, actor: resume_subscription(
                deps, actor, sub_id, request_key=self.key()))

    @precondition(live)
    @rule(pick=PICK)
    def check_approval(self, pick):
        """Check Approval (PayPal): a change waiting for the payer."""
        from actions.subscription_approval import check_approval
        self._step()
        sub_id = self.pick_sub(pick, "paypal")
        if sub_id is not None:
            self.act("check approval", lambda deps, actor: check_approval(deps, actor,
                                                                          sub_id))

    @precondition(live)
    @rule(kind=st.sampled_from(("refund_remaining", "cancel_subscription",
                                "change_subscription_price")),
          picks=st.lists(PICK, min_size=1, max_size=4),
          kill_after=st.one_of(st.none(), st.integers(0, 3)),
          price=st.sampled_from(PRICES))
    def bulk_job(self, kind, picks, kill_after, price):
        """A bulk job over a few rows; `kill_after`: the worker dies after that many rows
        (after the gateway acted, before the row's outcome was recorded), and a new worker
        resumes the job once its lease ran out."""
        from admin_app import jobs
        from models import AdminUser, db
        self._step()
        subs = kind != "refund_remaining"
        ids = sorted({(self.pick_sub(p) if subs else self.pick_payment(p)) for p in picks}
                     - {None})
        if not ids:
            return
        params = {"refund_remaining": {"reason": "other", "note": None},
                  "cancel_subscription": {"when": "period_end"},
                  "change_subscription_price": {"amount_cents": price, "currency": STORE}}[kind]
        self.intents += len(ids)
        job_id = None
        with self.w.context():
            actor = db.session.get(AdminUser, self.owner_id)
            try:
                job = jobs.create_job(actor, kind, {"view": "subscription" if subs
                                                    else "transaction", "ids": ids},
                                      params, request_key=self.key())
                job_id = job.id
            except Exception as e:  # noqa: BLE001
                self.problems.append(f"step {self.steps}: bulk {kind} refused: {e}")
                return
        if kill_after is None:
            self.w.run_jobs()
            return
        with killing(kind, kill_after):
            try:
                self.w.queue.run(keep=lambda path: path.endswith("jobs:run_job"))
            except WorkerKilled:
                pass
        # the dead worker's lease runs out; the next worker start resumes the job
        from models import Job
        from models._types import utcnow
        with self.w.context():
            db.session.execute(update(Job).where(Job.id == job_id, Job.lease_owner.is_not(None))
                               .values(lease_until=utcnow() - timedelta(hours=1)))
            db.session.commit()
            jobs.resume_stale_jobs(self.w.app)
        self.w.run_jobs()

    # --- members and the gateways ---------------------------------------------------------------
    @precondition(live)
    @rule(days=st.integers(1, 40))
    def clock_moves(self, days):
        """Days pass: renewals, scheduled ends; webhooks arrive; every day the members'
        access is compared with the gateways' (a lost webhook is recovered by the nightly
        sync first)."""
        self._step()
        for _ in range(days):
            with self.w.sb.lock:
                invariants.remember_paid_until(self.w.sb)
            self.w.sb.advance(DAY)
            self.settle_day()

    def settle_day(self):
        self.w.deliver_all()
        for gateway, lost in self.w.lost.items():
            if lost:
                self.w.sync(gateway)
                self.w.lost[gateway] = 0
        self.problems.extend(f"step {self.steps}: {p}"
                             for p in invariants.access(self.w))

    @precondition(live)
    @rule(pick=PICK)
    def renewal_declined(self, pick):
        """The member's card (or PayPal funding) declines the next renewal."""
        self._step()
        sub_id = self.pick_sub(pick)
        if sub_id is not None:
            from models import Subscription
            try:
                control.decline(self.w.sb, self.ref_of(Subscription, sub_id, "gateway_id"))
            except LookupError:
                pass

    @precondition(live)
    @rule(pick=PICK, at_period_end=st.booleans())
    def member_cancels_at_gateway(self, pick, at_period_end):
        """The member cancels in their Stripe portal (now or at the period end) or their
        PayPal account (PayPal cancels at once)."""
        from models import Subscription
        self._step()
        sub_id = self.pick_sub(pick)
        if sub_id is None:
            return
        ref = self.ref_of(Subscription, sub_id, "gateway_id")
        sb = self.w.sb
        with sb.lock:
            invariants.remember_paid_until(sb)
            if ref in sb.stripe.subscriptions:
                sub = sb.stripe.subscriptions[ref]
                if sub["status"] == "canceled":
                    return
                if at_period_end:
                    sb.stripe._update(sub, {"cancel_at_period_end": "true"})
                else:
                    sb.stripe._end(sub, sb.now())
            elif ref in sb.paypal.subscriptions:
                sb.paypal._act(ref, "cancel", {"reason": "Member cancelled"})

    @precondition(live)
    @rule(pick=PICK)
    def dispute_opened(self, pick):
        """The member disputes a payment with their bank."""
        from models import Transaction
        self._step()
        tx_id = self.pick_payment(pick)
        if tx_id is None:
            return
        ref = self.ref_of(Transaction, tx_id, "gateway_ref")
        sb = self.w.sb
        with sb.lock:
            try:
                if ref in sb.paypal.captures or ref in sb.paypal.sales:
                    sb.paypal.open_dispute(ref)
                else:
                    charge = sb.stripe.charges.get(ref) or sb.stripe.charges.get(
                        (sb.stripe.payment_intents.get(ref) or {}).get("latest_charge"))
                    if charge and not charge["disputed"] and \
                            charge["amount_refunded"] < charge["amount"]:
                        sb.stripe.open_dispute(charge["id"])
            except LookupError:
                pass

    @precondition(live)
    @rule(pick=PICK, won=st.booleans())
    def dispute_decided(self, pick, won):
        """The bank decides an open dispute."""
        self._step()
        sb = self.w.sb
        with sb.lock:
            open_ = [d["id"] for d in sb.stripe.disputes.values()
                     if d["status"] not in ("won", "lost")] + \
                [d["dispute_id"] for d in sb.paypal.disputes.values()
                 if d["status"] != "RESOLVED"]
            if open_:
                ref = open_[pick % len(open_)]
                (sb.stripe if ref.startswith("dp_") else sb.paypal).decide_dispute(ref, won)

    @precondition(live)
    @rule(pick=PICK, percent=st.integers(1, 100))
    def refund_in_gateway_dashboard(self, pick, percent):
        """Someone refunds a payment in the gateway's own dashboard (no id of ours)."""
        from models import Transaction
        self._step()
        tx_id = self.pick_payment(pick)
        if tx_id is None:
            return
        ref = self.ref_of(Transaction, tx_id, "gateway_ref")
        sb = self.w.sb
        with sb.lock:
            if ref in sb.paypal.captures:
                capture = sb.paypal.captures[ref]
                currency = capture["amount"]["currency_code"]
                from sandbox.paypal_api import cents, money
                left = cents(capture["amount"]["value"], currency) - sb.paypal.refunded(ref)
                if left > 0:
                    sb.paypal._refund(ref, {"amount": money(max(1, left * percent // 100),
                                                            currency)})
                return
            charge = sb.stripe.charges.get(ref) or sb.stripe.charges.get(
                (sb.stripe.payment_intents.get(ref) or {}).get("latest_charge"))
            if charge is None:
                return
            left = charge["amount"] - charge["amount_refunded"]
            if left > 0 and charge["paid"] and not charge["disputed"]:
                sb.stripe._create_refund({"charge": charge["id"],
                                          "amount": str(max(1, left * percent // 100))})

    @precondition(live)
    @rule(pick=PICK, foreign=st.booleans())
    def member_buys(self, pick, foreign):
        """A member buys a course: a one-off payment, in euros settled in dollars or in
        dollars."""
        self._step()
        sb = self.w.sb
        with sb.lock:
            customers = list(sb.stripe.customers) + list(sb.paypal.payers)
            if not customers:
                return
            who = customers[pick % len(customers)]
            cents = 3000 + 100 * (pick % 50)
            settled = (cents * 108 // 100) if foreign else None
            currency = "EUR" if foreign else "USD"
            if who in sb.stripe.customers:
                charge = sb.stripe.payment(customer=who, amount=cents,
                                           currency=currency.lower(), created=sb.now(),
                                           description="Course",
                                           settlement=(settled, "usd", 150) if settled
                                           else None)
                sb.stripe_event("charge.succeeded", charge)
            else:
                capture = sb.paypal.capture(payer=who, amount=cents, currency=currency,
                                            created=sb.now(), description="Course",
                                            settlement=(settled, "USD", 250) if settled
                                            else None)
                sb.paypal_event("PAYMENT.CAPTURE.COMPLETED", capture, "capture")

    # --- the network ---------------------------------------------------------------------------
    @precondition(live)
    @rule()
    def webhooks_arrive(self):
        """The webhooks sent so far arrive, in order."""
        self._step()
        self.w.deliver_all()

    @precondition(live)
    @rule(pick=PICK, reverse=st.booleans())
    def webhooks_reordered(self, pick, reverse):
        """The waiting webhooks arrive out of order."""
        self._step()
        self.w.collect()
        box = self.w.mailbox
        if len(box) > 1:
            k = pick % len(box)
            box[:] = (box[::-1] if reverse else box[k:] + box[:k])
        self.w.deliver_all()

    @precondition(live)
    @rule(pick=PICK)
    def webhook_duplicated(self, pick):
        """One waiting webhook arrives twice (the vendor retried it)."""
        self._step()
        self.w.collect()
        box = self.w.mailbox
        if box:
            box.insert(0, box[pick % len(box)])
        self.w.deliver_all()

    @precondition(live)
    @rule(pick=PICK)
    def webhook_lost(self, pick):
        """One waiting webhook never arrives (its retries all failed): the nightly sync
        must recover what it said."""
        self._step()
        self.w.collect()
        box = self.w.mailbox
        if box:
            vendor, _ = box.pop(pick % len(box))
            self.w.lost[vendor] += 1

    @precondition(live)
    @rule(vendor=st.sampled_from(("stripe", "paypal")),
          fault=st.sampled_from(("timeout", "reset", 500, 429)))
    def gateway_fault(self, vendor, fault):
        """The next call that changes something at the gateway: acted on but its answer
        lost (timeout, reset), or refused (500, 429)."""
        self._step()
        self.w.sb.add_fault(vendor, fault)

    @precondition(live)
    @rule(gateway=st.sampled_from(("stripe", "paypal")))
    def nightly_sync(self, gateway):
        """`flask sync GATEWAY` runs."""
        self._step()
        self.w.deliver_all()
        self.w.sync(gateway)
        self.w.lost[gateway] = 0


class killing:
    """Within: the bulk action `name` kills its worker after `after` rows, each after the
    gateway acted and the action committed, before the job recorded the row."""

    def __init__(self, name, after):
        import importlib
        self.module = importlib.import_module(f"actions.bulk.{name}")
        self.after, self.done = after, 0

    def __enter__(self):
        self.original = self.module.ACTION
        run_row = self.original.run_row

        def dying(*args, **kwargs):
            if self.done >= self.after:
                result = run_row(*args, **kwargs)
                raise WorkerKilled(result)
            self.done += 1
            return run_row(*args, **kwargs)
        self.module.ACTION = dataclasses.replace(self.original, run_row=dying)
        return self

    def __exit__(self, *exc):
        self.module.ACTION = self.original
