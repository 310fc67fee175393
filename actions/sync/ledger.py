"""What the gateway's own records say each customer's lifetime value is, beside ours.

A full sync (or dry run) hands every payment, refund and dispute record it reads to a
GatewayLedger. At the end, each customer's value by the lifetime-value rule (actions/ltv.py)
is computed twice, both from this gateway's payments only: from the gateway's records
(settled payments − settled refunds − lost disputes, in the store currency) and from our
tables. A customer where the two differ is reported: a refund counted twice here, a refund or
dispute missing here, a settlement we estimated where the gateway has the exact figure.

Where the gateway does not say a figure (no balance transaction for a refund yet), ours for
the same object is taken, else the proportional share the rule uses: only what the gateway
does say can disagree.
"""
from collections import defaultdict

from sqlalchemy import select

from actions import ltv
from actions.sync.records import DisputeRecord, PaymentRecord, RefundRecord
from models import Customer, Dispute, Refund, Transaction, db


class GatewayLedger:
    """covers_from: the earliest instant the gateway's records reach (PayPal's transaction
    search: three years back); a customer with a payment of ours before it cannot be
    compared, and is counted in `not_compared` instead."""

    def __init__(self, gateway, store_currency, covers_from=None):
        self.gateway, self.store, self.covers_from = gateway, store_currency, covers_from
        self.payments, self.refunds, self.disputes = {}, {}, {}
        self.not_compared = 0

    def add(self, record):
        """Remember a record the sync read (the latest one per object wins)."""
        if isinstance(record, PaymentRecord):
            self.payments[record.refs[0]] = record
        elif isinstance(record, RefundRecord):
            self.refunds[record.ref] = record
        elif isinstance(record, DisputeRecord):
            self.disputes[record.ref] = record

    def differences(self, limit=500):
        """[{customer_id, email, here_cents, gateway_cents}] where the values differ."""
        ours = {row.gateway_ref: row for row in db.session.execute(
            select(Transaction.id, Transaction.gateway_ref, Transaction.customer_id,
                   Transaction.amount_cents, Transaction.settlement_cents,
                   Transaction.settlement_currency, Transaction.created_at)
            .where(Transaction.gateway == self.gateway)
            .execution_options(yield_per=5000))}
        # paid before the gateway's records reach: the gateway cannot say their value
        older = {tx.customer_id for tx in ours.values()
                 if self.covers_from is not None and tx.created_at < self.covers_from}
        self.not_compared = len(older)
        theirs = defaultdict(int)
        for rec in self.payments.values():
            tx = _ours(ours, rec.refs)
            if tx is None or rec.status != "succeeded":
                continue
            s = rec.settlement
            cents, currency = (s.cents, s.currency) if s is not None else \
                (tx.settlement_cents, tx.settlement_currency)
            if currency == self.store and cents:
                theirs[tx.customer_id] += cents
        for kind, records in ((Refund, self.refunds), (Dispute, self.disputes)):
            known = self._known(kind, records)
            for rec in records.values():
                tx = _ours(ours, rec.payment_refs)
                done = "succeeded" if kind is Refund else "lost"
                if tx is None or rec.status != done:
                    continue
                cents, currency = self._taken(rec, tx, known.get(rec.ref))
                if currency == self.store:
                    theirs[tx.customer_id] -= cents
        here = dict(db.session.execute(
            select(*_per_customer(self.store, self.gateway))).all())
        found = []
        for customer_id in sorted((set(here) | set(theirs)) - older):
            mine, gateway_value = int(here.get(customer_id) or 0), theirs.get(customer_id, 0)
            if mine != gateway_value:
                found.append({"customer_id": customer_id, "here_cents": mine,
                              "gateway_cents": gateway_value})
        emails = dict(db.session.execute(select(Customer.id, Customer.email).where(
            Customer.id.in_([f["customer_id"] for f in found[:limit]]))).all()) if found else {}
        for item in found:
            item["email"] = emails.get(item["customer_id"])
        return found

    def _known(self, model, records):
        """Our settlement figures for the objects the records name: ref -> (cents, currency)."""
        refs = list(records)
        known = {}
        for start in range(0, len(refs), 1000):
            known.update({r: (c, cur) for r, c, cur in db.session.execute(
                select(model.gateway_ref, model.settlement_cents, model.settlement_currency)
                .where(model.gateway_ref.in_(refs[start:start + 1000])))})
        return known

    def _taken(self, rec, tx, known):
        """(cents, currency) a succeeded refund or lost dispute took off, by the gateway."""
        s = rec.settlement
        if s is not None and s.exact and s.currency == tx.settlement_currency:
            return s.cents, s.currency
        if known is not None and known[0] is not None:
            return known
        if tx.settlement_cents is None or not tx.amount_cents:
            return rec.amount_cents, rec.currency
        return ((tx.settlement_cents * rec.amount_cents + tx.amount_cents // 2)
                // tx.amount_cents, tx.settlement_currency)


def _ours(ours, refs):
    return next((ours[r] for r in refs if r and r in ours), None)


def _per_customer(store, gateway):
    sub = ltv.actual_ltv_subquery(store, gateway=gateway)
    return sub.c.customer_id, sub.c.ltv
