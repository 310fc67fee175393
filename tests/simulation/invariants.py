"""What must hold: each subscription's access agrees with its gateway's state and the guide's
rule (checked every simulated day), and after a history — the last webhooks delivered, the
nightly sync run, the worker restarted — the money agrees with the gateways to the cent.

Each check returns a list of sentences, one per violation (empty: it holds)."""
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import select

from actions.gateways.base import METADATA_KEY
from sandbox.paypal_api import cents as paypal_cents
from sandbox.times import add_interval, parse_iso

GATEWAYS = ("stripe", "paypal")
#: how long after the history's last step its checks run (simulated seconds)
FINAL_SECONDS = 60
#: PayPal subscription -> the end of the period paid for, as PayPal said before it
#: cancelled or suspended it (PayPal drops next_billing_time when it cancels)
_paid_until = {}
#: PayPal subscription -> when the panel cancelled it "Immediately" (access ends then)
_cancel_now = {}


def reset():
    _paid_until.clear()
    _cancel_now.clear()


def cancel_now_done(ref, when):
    _cancel_now.setdefault(ref, []).append(when)


def remember_paid_until(sb):
    """Note each live PayPal subscription's next billing time (what it has paid until)."""
    for ref, sub in sb.paypal.subscriptions.items():
        nxt = sub["billing_info"].get("next_billing_time")
        if sub["status"] == "ACTIVE" and nxt:
            _paid_until[ref] = parse_iso(nxt)


def gateway_access(sb, sub, now):
    """Whether the gateway's state gives the member access at `now` (Unix seconds), by the
    guide's rule: a cancelled subscription keeps access until the period paid for ends; a
    paused one is not charged, so access ends when the paid period does."""
    if sub.gateway == "stripe":
        s = sb.stripe.subscriptions.get(sub.gateway_id)
        if s is None:
            return None
        if s["status"] == "canceled":
            return now < (s["ended_at"] or 0)
        if s["status"] not in ("active", "trialing", "past_due"):
            return False
        if s["pause_collection"]:
            return now < _stripe_paid_until(sb, s)
        return True
    s = sb.paypal.subscriptions.get(sub.gateway_id)
    if s is None:
        return None
    if s["status"] == "ACTIVE":
        return True
    nxt = s["billing_info"].get("next_billing_time")
    if s["status"] == "CANCELLED" and _cancel_now.get(sub.gateway_id):
        return now < min(_cancel_now[sub.gateway_id])  # the admin's “Immediately”
    until = parse_iso(nxt) if nxt else _paid_until.get(sub.gateway_id)
    return until is not None and now < until


def _stripe_paid_until(sb, s):
    """The end of the last period paid for: the subscription's paid invoices, except a
    price change's that charged nothing (lowering the price mid-period credits the unused
    time and pays for no period, also when that period's own invoice was voided by a
    pause)."""
    ends = [inv["period_end"] for inv in sb.stripe.invoices.values()
            if inv["status"] == "paid" and
            ((inv.get("parent") or {}).get("subscription_details") or {})
            .get("subscription") == s["id"] and
            (inv.get("billing_reason") != "subscription_update" or inv["amount_paid"] > 0)]
    return max(ends, default=s["items"]["data"][0]["current_period_start"])


def access(world):
    """Every subscription's access now, the panel's rule on its record against the
    gateway's state."""
    from models import Subscription, db
    from models.access import has_access
    now = world.sb.now()
    at = datetime.fromtimestamp(now, timezone.utc)
    found = []
    with world.context():
        for sub in db.session.scalars(select(Subscription).order_by(Subscription.id)):
            expected = gateway_access(world.sb, sub, now)
            if expected is None or sub.gateway_id in world.access_reported:
                continue
            ours = has_access(sub, at)
            if ours != expected:
                world.access_reported.add(sub.gateway_id)  # its first day is enough
                found.append(
                    f"access on {at:%Y-%m-%d %H:%M}: {sub.gateway} subscription "
                    f"{sub.gateway_id} gives access={ours} in the panel (status {sub.status}, "
                    f"period end {sub.current_period_end}, access until {sub.access_until}, "
                    f"cancel at period end {sub.cancel_at_period_end}, paused {sub.paused}) "
                    f"but the gateway's state says {expected} ({_gateway_state(world.sb, sub)})")
    return found


def _gateway_state(sb, sub):
    if sub.gateway == "stripe":
        s = sb.stripe.subscriptions[sub.gateway_id]
        item = s["items"]["data"][0]
        return (f"status {s['status']}, period end {_day(item['current_period_end'])}, "
                f"cancel_at_period_end {s['cancel_at_period_end']}, ended_at "
                f"{_day(s['ended_at'])}, paused {bool(s['pause_collection'])}")
    s = sb.paypal.subscriptions[sub.gateway_id]
    return (f"status {s['status']}, next billing "
            f"{s['billing_info'].get('next_billing_time')}, paid until "
            f"{_day(_paid_until.get(sub.gateway_id))}")


def _day(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M") if ts else ts


def final(world, machine):
    """After the history: the last webhooks, the nightly sync, the worker's restart; then
    every money invariant."""
    sb = world.sb
    with sb.lock:
        sb.faults = {"stripe": [], "paypal": []}
        remember_paid_until(sb)
    # the checks come a minute after the last step (a sync lists what was made before it
    # started: PayPal's transaction search ends at the second it is asked for, exclusive)
    sb.advance(FINAL_SECONDS)
    world.deliver_all()
    _restart_worker(world)
    world.deliver_all()
    # the nightly sync, then its dry run: a dry run that finds nothing to do stands for the
    # sync too (the sync would change nothing), so the sync runs only on a gateway whose
    # dry run found work, and that gateway's dry run is repeated
    drift = {gateway: dry_runs(world, (gateway,)) for gateway in GATEWAYS}
    for gateway in [g for g in GATEWAYS if drift[g]]:
        summary = world.sync(gateway)
        world.sync_errors += [f"sync {gateway}: error {e}" for e in summary.errors]
        drift[gateway] = dry_runs(world, (gateway,))
    drift = [d for gateway in GATEWAYS for d in drift[gateway]]
    found = []
    found += access(world)
    found += world.sync_errors
    found += ltv_drift(world)
    found += refunded_totals(world)
    found += gateway_duplicates(world)
    found += commissions(world)
    found += nothing_stuck(world)
    found += drift
    return found


def _restart_worker(world):
    """A worker starts: stale jobs and due webhook lanes resumed (its start hooks)."""
    from admin_app.queue import _run_start_hooks
    _run_start_hooks(world.app)
    world.run_jobs()


def ltv_drift(world):
    from actions import ltv
    with world.context():
        drift = ltv.find_drift(world.app.config["STORE_CURRENCY"])
    return [f"recompute-ltv finds drift: {row}" for row in drift]


def _stripe_charge(sb, ref):
    return sb.stripe.charges.get(ref) or sb.stripe.charges.get(
        (sb.stripe.payment_intents.get(ref) or {}).get("latest_charge"))


def refunded_totals(world):
    """Each payment's refunded total equals the gateway's."""
    from models import Transaction, db
    sb, found = world.sb, []
    with world.context(), sb.lock:
        for tx in db.session.scalars(select(Transaction).order_by(Transaction.id)):
            if tx.gateway == "stripe":
                charge = _stripe_charge(sb, tx.gateway_ref)
                if charge is None:
                    found.append(f"payment {tx.gateway_ref} is not at Stripe")
                    continue
                theirs = sum(r["amount"] for r in sb.stripe.refunds.values()
                             if r["charge"] == charge["id"] and r["status"] == "succeeded")
            else:
                theirs = sum(paypal_cents(r["amount"]["value"], r["amount"]["currency_code"])
                             for r in sb.paypal.refunds.values()
                             if r["status"] == "COMPLETED" and
                             _up(r) == tx.gateway_ref)
            if tx.refunded_cents != theirs:
                found.append(f"{tx.gateway} payment {tx.gateway_ref}: refunded "
                             f"{tx.refunded_cents} here, {theirs} at the gateway")
    return found


def _up(refund):
    for link in refund.get("links") or []:
        if link.get("rel") == "up":
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return None


def gateway_duplicates(world):
    """No refund or charge exists twice at the gateway for one admin intent: one gateway
    refund per key of ours; no more prorated charges than changes asked to charge now."""
    from models import Subscription, SubscriptionChange, db
    sb, found = world.sb, []
    with sb.lock:
        keys = Counter((r.get("metadata") or {}).get(METADATA_KEY)
                       for r in sb.stripe.refunds.values())
        keys.update(r.get("custom_id") for r in sb.paypal.refunds.values())
        keys.pop(None, None)
        found += [f"{n} gateway refunds carry our key {key}" for key, n in keys.items()
                  if n > 1]
        charged = Counter(charge["customer"] for charge in sb.stripe.charges.values()
                          if charge["description"] == "Subscription update")
    with world.context():
        asked = Counter()
        for change, sub in db.session.execute(
                select(SubscriptionChange, Subscription)
                .join(Subscription, Subscription.id == SubscriptionChange.subscription_id)
                .where(Subscription.gateway == "stripe")):
            text = str(change.params)
            if "always_invoice" in text or "'now'" in text:
                asked[sub.customer.stripe_customer_id] += 1
    for customer, n in charged.items():
        if n > asked[customer]:
            found.append(f"Stripe customer {customer}: {n} prorated charges for "
                         f"{asked[customer]} changes asked to charge now")
    return found


def commissions(world):
    """Commissions follow the one rule (commission_base) after refunds and disputes: never
    more than the affiliate's rate on what the business kept (one cent of rounding per
    reversal), nothing when nothing was kept."""
    from actions.commission import sale_base
    from models import Affiliate, Dispute, Refund, Transaction, db
    found = []
    with world.context():
        rate = {a.id: a for a in db.session.scalars(select(Affiliate))}
        for tx in db.session.scalars(select(Transaction).where(
                Transaction.commission_cents > 0)):
            aff = rate.get(tx.affiliate_id)
            if aff is None:
                found.append(f"payment {tx.gateway_ref}: commission {tx.commission_cents} "
                             "without an affiliate")
                continue
            reversals = db.session.scalar(select(db.func.count()).select_from(Refund).where(
                Refund.transaction_id == tx.id)) + db.session.scalar(
                select(db.func.count()).select_from(Dispute).where(
                    Dispute.transaction_id == tx.id))
            most = aff.commission_for(sale_base(tx)) + reversals
            if tx.net_cents == 0 or tx.commission_cents > most:
                found.append(f"payment {tx.gateway_ref}: commission {tx.commission_cents} "
                             f"on a kept base of {sale_base(tx)} (rate "
                             f"{aff.commission_rate_bp} bp: at most {most})")
    return found


def nothing_stuck(world):
    """No job, job row or webhook event left unfinished, no refund the gateway made left
    pending. (A refund or subscription change whose answer was lost and that the gateway
    never made stays pending by design: “Check refund” or repeating the change settles
    it.)"""
    from models import Job, JobRow, Refund, WebhookEvent, db
    found = []
    with world.context():
        for job in db.session.scalars(select(Job).where(Job.state.in_(("queued", "running")))):
            found.append(f"job #{job.id} ({job.action}) left {job.state}")
        for row in db.session.scalars(select(JobRow).where(
                JobRow.state.in_(("pending", "running", "sending")))):
            found.append(f"job #{row.job_id} row {row.target_id} left {row.state}")
        for event in db.session.scalars(select(WebhookEvent).where(
                WebhookEvent.status.in_(("received", "retrying", "failed")))):
            found.append(f"webhook {event.event_type} {event.event_id} left {event.status}: "
                         f"{event.last_error}")
        keys = _gateway_refund_keys(world.sb)
        for refund in db.session.scalars(select(Refund).where(Refund.status == "pending")):
            if refund.idempotency_key in keys:  # made at the gateway: webhook or sync finish it
                found.append(f"refund #{refund.id} of {refund.amount_cents} left pending "
                             f"although the gateway made it ({refund.failure_message})")
            # else its answer was lost and the gateway has none: “Check refund” decides
    return found


def _gateway_refund_keys(sb):
    with sb.lock:
        return {(r.get("metadata") or {}).get(METADATA_KEY) for r in sb.stripe.refunds.values()} \
            | {r.get("custom_id") for r in sb.paypal.refunds.values()}


def dry_runs(world, gateways=GATEWAYS):
    """`flask sync stripe|paypal --dry-run`: 0 differences, every lifetime value adds up and
    agrees with the gateway's own records, no errors."""
    found = []
    for gateway in gateways:
        summary = world.sync(gateway, dry_run=True)
        found += [f"sync {gateway} --dry-run: {d['what']} {d['object']} ({d['action']}: "
                  f"{d.get('before')} -> {d.get('after')})" for d in summary.drift]
        found += [f"sync {gateway} --dry-run: error {e}" for e in summary.errors]
        if summary.ltv_drift:
            found.append(f"sync {gateway} --dry-run: {summary.ltv_drift} lifetime values do "
                         "not add up")
        found += [f"sync {gateway} --dry-run: lifetime value of {d.get('email')} is "
                  f"{d['here_cents']} here, {d['gateway_cents']} by the gateway's records"
                  for d in summary.ltv_differences]
    return found


__all__ = ["access", "final", "gateway_access", "remember_paid_until", "add_interval"]
