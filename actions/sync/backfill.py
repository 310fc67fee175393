"""The backfill sync: page through a gateway's lists, apply each object with the same
functions as the webhooks, one commit per page together with the stored cursor (so an
interrupted run resumes where it stopped), and a summary. A dry run applies inside a
transaction that is rolled back and reports what would have changed: the drift."""
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from actions import ltv
from actions.sync.records import SYNC
from models import AuditEvent, SyncState, db
from models._types import utcnow

#: audit actions that mean "this was missing here" rather than "this differs"
MISSING = ("customer.imported", "payment.imported", "subscription.imported",
           "refund.imported")


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)  # created / updated / unchanged / errors
    errors: list = field(default_factory=list)
    drift: list = field(default_factory=list)
    ltv_drift: int = 0
    #: customers whose lifetime value here differs from the gateway's records (full runs)
    ltv_differences: list = field(default_factory=list)
    ltv_compared: bool = False
    #: customers left out of that comparison: paid before the gateway's records reach
    ltv_not_compared: int = 0

    def as_dict(self):
        return {"counts": dict(self.counts), "errors": self.errors[:100],
                "drift": self.drift[:500], "drift_total": len(self.drift),
                "ltv_drift": self.ltv_drift,
                "ltv_differences": self.ltv_differences[:500],
                "ltv_differences_total": len(self.ltv_differences),
                "ltv_compared": self.ltv_compared, "ltv_not_compared": self.ltv_not_compared}


class RateLimit:
    """At most `per_second` calls: each call waits for its slot."""

    def __init__(self, per_second, clock=time.monotonic, sleep=time.sleep):
        self.interval, self.clock, self.sleep, self.next = 1 / per_second, clock, sleep, 0.0

    def __call__(self):
        now = self.clock()
        if now < self.next:
            self.sleep(self.next - now)
            now = self.next
        self.next = now + self.interval


def state(gateway, kind):
    row = db.session.scalar(select(SyncState).where(SyncState.gateway == gateway,
                                                    SyncState.kind == kind))
    if row is None:
        row = SyncState(gateway=gateway, kind=kind, result={})
        db.session.add(row)
    return row


def run(source, *, dry_run=False, progress=None):
    """Import (or with dry_run compare) everything `source` lists; returns a Summary.

    `source` (stripe_source / paypal_source) yields pages: (kind, cursor, [(label, apply)]);
    `apply()` applies one object and returns "created" | "updated" | "unchanged".
    """
    summary = Summary()
    run_state = state(source.gateway, "run")
    resume = None if dry_run or run_state.finished_at is not None else run_state.result
    if not dry_run:
        run_state.finished_at, run_state.result = None, resume or {}
        db.session.commit()
    for kind, cursor, items in source.pages(resume or {}):
        _apply_page(items, summary, dry_run, progress)
        if not dry_run:  # the page and where to continue, in one commit
            run_state = state(source.gateway, "run")
            run_state.result = {"kind": kind, "cursor": cursor}
            db.session.commit()
    if dry_run:
        summary.drift.extend(source.missing_there())
    if getattr(source, "ledger", None) is not None:
        summary.ltv_differences, summary.ltv_compared = source.ledger.differences(), True
        summary.ltv_not_compared = source.ledger.not_compared
    summary.ltv_drift = len(ltv.find_drift(source.deps.store_currency))
    _finish(source.gateway, summary, dry_run)
    return summary


def _apply_page(items, summary, dry_run, progress):
    """Apply a page's objects in one transaction. An object that fails is counted and left
    out, and the page applied again without it (applying is idempotent; no savepoints, which
    pysqlite does not nest in a transaction). A dry run rolls the page back afterwards."""
    failed = {}
    while True:
        outcomes, drift = [], Summary()
        # where this page's audit entries start (only a dry run reads them back)
        watermark = (db.session.scalar(select(func.max(AuditEvent.id))) or 0) if dry_run else 0
        try:
            for index, (label, apply) in enumerate(items):
                if index in failed:
                    continue
                current = index
                outcomes.append(apply())
                if dry_run and outcomes[-1] != "unchanged":
                    drift.drift = summary.drift + drift.drift
                    watermark = _differences(label, watermark, drift)
                    drift.drift = drift.drift[len(summary.drift):]
        except Exception as exc:  # noqa: BLE001 - one bad object never stops the sync
            db.session.rollback()
            failed[current] = f"{items[current][0]}: {getattr(exc, 'message', None) or exc}"
            continue
        break
    summary.counts.update(outcomes)
    summary.counts["errors"] += len(failed)
    summary.errors.extend(failed.values())
    summary.drift.extend(drift.drift)
    if progress:
        progress(len(items))
    if dry_run:
        db.session.rollback()


def _differences(label, watermark, summary):
    """What the apply changed (to be rolled back), read from the audit entries it wrote."""
    db.session.flush()
    entries = db.session.scalars(select(AuditEvent).where(AuditEvent.id > watermark)
                                 .order_by(AuditEvent.id)).all()
    seen = {(d["action"], d["ref"]) for d in summary.drift}
    for e in entries:
        ref = e.gateway_ref or (e.after or {}).get("ref") or (e.after or {}).get("gateway_id") \
            or label
        if e.action == "refund" and ("refund.imported", ref) in seen:
            continue  # the outcome of a refund that is reported missing already
        if (e.action, ref) not in seen:
            seen.add((e.action, ref))
            summary.drift.append({"object": label, "ref": ref, "action": e.action,
                                  "what": "missing here" if e.action in MISSING else "differs",
                                  "before": e.before, "after": e.after})
    return entries[-1].id if entries else watermark


def _finish(gateway, summary, dry_run):
    row = state(gateway, "drift" if dry_run else "run")
    row.finished_at, row.result, row.cursor = utcnow(), summary.as_dict(), None
    db.session.commit()


def vacuum_analyze():
    """VACUUM (ANALYZE) the tables a large import filled (PostgreSQL: sets the visibility
    map, without which deep list pages are ~4x slower)."""
    if db.engine.dialect.name != "postgresql":
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text('VACUUM (ANALYZE) customer, "transaction", refund, dispute, '
                          "subscription"))
    return True


# Built once: every list page asks (its drift banner); the three values, no ORM objects.
_LAST_DRIFT = select(SyncState.gateway, SyncState.finished_at, SyncState.result).where(
    SyncState.kind == "drift")


def last_drift():
    """The last dry run's result per gateway, for the home page."""
    return {gateway: (finished_at, result or {})
            for gateway, finished_at, result in db.session.execute(_LAST_DRIFT)}


SYNC_ACTOR = SYNC
