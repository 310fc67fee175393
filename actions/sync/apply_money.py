"""Payments, refunds and disputes from gateway records, with their lifetime value; no commit.

Money states only move forward: a payment pending -> succeeded | failed, a refund pending ->
succeeded | failed (through actions.refund.apply_outcome, the same code as the panel's
refunds), a dispute open -> won | lost. A repeated or older record changes nothing.
"""
from sqlalchemy import func, inspect, select, text

from actions import audit, ltv
from actions.commission import commission_reversal, sale_base
from actions.refund import apply_outcome
from actions.sync.apply_accounts import apply_customer, find_subscription
from models import Dispute, Refund, Transaction, db


class MissingParent(Exception):
    """A refund or dispute names a payment we do not have (yet)."""


def find_payment(gateway, refs):
    refs = [r for r in refs if r]
    if not refs:
        return None
    return db.session.scalar(select(Transaction).where(
        Transaction.gateway == gateway, Transaction.gateway_ref.in_(refs))
        .with_for_update().execution_options(populate_existing=True))


#: PostgreSQL advisory lock serialising invoice numbers among concurrent event processors
INVOICE_NUMBER_LOCK = 7_263_540


def _next_invoice_number():
    """The next gapless invoice number; concurrent processors take turns (held to commit)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": INVOICE_NUMBER_LOCK})
    return (db.session.scalar(select(func.max(Transaction.invoice_number))) or 0) + 1


#: db.session.info key: payments waiting for their invoice number until the batch commits
_DEFERRED = "memberdesk_deferred_invoice_numbers"


def defer_invoice_numbers():
    """Number the payments of this transaction only when number_deferred() is called, just
    before the commit: the invoice-number lock (which every processor takes) is then held
    for the last statements of a batch instead of the whole batch, so that two workers'
    batches run side by side, and the highest number is read once per batch."""
    db.session.info[_DEFERRED] = []


def number_deferred():
    """Give the payments deferred in this transaction their gapless numbers, in the order
    they were applied (those whose event was rolled back are left alone)."""
    pending = db.session.info.pop(_DEFERRED, None) or []
    live = [tx for tx in dict.fromkeys(pending)
            if inspect(tx).persistent and tx.status == "succeeded" and tx.invoice_number is None]
    if not live:
        return
    first = _next_invoice_number()
    for offset, tx in enumerate(live):
        tx.invoice_number = first + offset
    db.session.flush()


def forget_deferred():
    db.session.info.pop(_DEFERRED, None)


def _number(tx):
    pending = db.session.info.get(_DEFERRED)
    if pending is None:
        tx.invoice_number = _next_invoice_number()
    else:
        pending.append(tx)


#: PostgreSQL advisory locks (two-key form: this class, the hash of a payment's reference):
#: one processor at a time creates a given payment
PAYMENT_CREATION_LOCK = 7_263_541


def payment_lock_key(gateway, ref):
    """The text whose hash names the advisory lock of a payment's reference."""
    return f"{gateway}:{ref}"


def _claim_creation(gateway, ref):
    """Wait until no other transaction is creating the payment `ref` (until it commits), on
    PostgreSQL. Two lanes' batches may both bring a new payment (a Stripe renewal's
    charge.succeeded and its invoice.paid): the second then finds the first's payment instead
    of failing on the unique reference. A webhook batch has claimed the references it
    foresaw at its start (actions.sync.claims): this one is then held already."""
    if db.engine.dialect.name == "postgresql" and ref:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:cls, hashtext(:key))"),
                           {"cls": PAYMENT_CREATION_LOCK, "key": payment_lock_key(gateway, ref)})


def apply_payment(deps, actor, rec, fetch_customer=None):
    """Create or complete a payment; (transaction, "created"|"updated"|"unchanged")."""
    tx = find_payment(rec.gateway, rec.refs)
    if tx is None:
        _claim_creation(rec.gateway, rec.refs[0])
        tx = find_payment(rec.gateway, rec.refs)  # created meanwhile by another lane
    if tx is not None:
        audit.concerns(actor, tx.customer_id)
    if tx is None:
        customer, _ = apply_customer(deps, actor, rec.customer, fetch_customer)
        tx = Transaction(customer_id=customer.id, gateway=rec.gateway, gateway_ref=rec.refs[0],
                         amount_cents=rec.amount_cents, currency=rec.currency,
                         tax_cents=rec.tax_cents or 0, status="pending",
                         description=rec.description[:300], created_at=rec.created_at)
        db.session.add(tx)
        _fill(deps, tx, rec)
        db.session.flush()
        audit.record(actor, "payment.imported", tx, outcome=tx.status,
                     gateway_ref=tx.gateway_ref,
                     after={"amount_cents": tx.amount_cents, "currency": tx.currency,
                            "settlement_cents": tx.settlement_cents,
                            "settlement_currency": tx.settlement_currency})
        return tx, "created"
    before = _snapshot(tx)
    _fill(deps, tx, rec)
    after = _snapshot(tx)
    if after == before:
        return tx, "unchanged"
    db.session.flush()
    audit.record(actor, "payment.synced", tx, outcome=tx.status, gateway_ref=tx.gateway_ref,
                 before=before, after=after)
    return tx, "updated"


def _snapshot(tx):
    return {k: getattr(tx, k) for k in ("status", "settlement_cents", "settlement_currency",
                                        "fee_cents", "subscription_id", "commission_cents",
                                        "tax_cents", "description", "invoice_number")} | {
        "created_at": tx.created_at.isoformat()}


def _fill(deps, tx, rec):
    """Move tx forward to what rec says, keeping its lifetime value in step."""
    old_value = ltv.payment_value(tx) if tx.id else (0, None)
    if tx.status == "pending" and rec.status != "pending":
        tx.status = rec.status
    if tx.status == "succeeded" and tx.invoice_number is None:
        _number(tx)
    if rec.created_at < tx.created_at:
        tx.created_at = rec.created_at  # the earliest time any event gives for this payment
    if rec.tax_cents is not None:
        tx.tax_cents = rec.tax_cents
    s = rec.settlement
    if s is not None and (s.exact or tx.settlement_cents is None) and \
            (tx.settlement_cents, tx.settlement_currency, tx.fee_cents) != \
            (s.cents, s.currency, s.fee_cents if s.exact else tx.fee_cents):
        tx.settlement_cents, tx.settlement_currency = s.cents, s.currency
        if s.exact:
            tx.fee_cents = s.fee_cents
    if rec.subscription_ref and tx.subscription_id is None:
        _link_subscription(tx, rec)
    new_value = ltv.payment_value(tx)
    if new_value[1] == old_value[1]:  # one change, none when the value stays (no UPDATE)
        ltv.adjust(tx.customer_id, new_value[0] - old_value[0], new_value[1],
                   deps.store_currency)
        return
    ltv.adjust(tx.customer_id, -old_value[0], old_value[1], deps.store_currency)
    ltv.adjust(tx.customer_id, new_value[0], new_value[1], deps.store_currency)


def _link_subscription(tx, rec):
    """A renewal: the payment belongs to the subscription, whose affiliate earns its rate."""
    sub = find_subscription(rec.gateway, rec.subscription_ref, lock=False)
    if sub is None:  # the subscription's own event comes later: retried then
        raise MissingParent(f"no subscription {rec.subscription_ref} for payment {rec.refs[0]}")
    tx.subscription_id = sub.id
    tx.description = rec.description[:300]
    if sub.unpaid_from and tx.status == "succeeded" and tx.created_at >= sub.unpaid_from:
        sub.unpaid_from = None  # paid since the paid period ended (models/access.py)
    if sub.affiliate_id and tx.affiliate_id is None:
        tx.affiliate_id = sub.affiliate_id
        tx.commission_cents = sub.affiliate.commission_for(sale_base(tx))


def _payment_of(rec, what):
    """The payment a refund or dispute record belongs to; MissingParent (retried once the
    payment is imported) while we do not have it."""
    tx = find_payment(rec.gateway, rec.payment_refs)
    if tx is None:
        raise MissingParent(f"no payment {'/'.join(filter(None, rec.payment_refs))} "
                            f"for {what} {rec.ref}")
    return tx


def apply_refund(deps, actor, rec):
    """Record a refund made anywhere (panel or gateway dashboard) and finish a pending one."""
    tx = _payment_of(rec, "refund")
    audit.concerns(actor, tx.customer_id)
    refund = db.session.scalar(select(Refund).where(Refund.transaction_id == tx.id,
                                                    Refund.gateway_ref == rec.ref))
    if refund is None:
        refund = _panel_refund(tx, rec)
    created = refund is None
    if created:
        refund = Refund(transaction_id=tx.id, amount_cents=rec.amount_cents,
                        currency=tx.currency, reason=rec.reason, status="pending",
                        gateway_ref=rec.ref, created_at=rec.created_at,
                        note=f"Made at {tx.gateway_label}, not in the panel.")
        db.session.add(refund)
        db.session.flush()
        audit.record(actor, "refund.imported", tx, outcome=rec.status, gateway_ref=rec.ref,
                     after={"amount_cents": rec.amount_cents, "currency": tx.currency,
                            "status": rec.status})
    if refund.status != "pending" or rec.status == "pending":
        if refund.gateway_ref is None:  # a panel refund pending there: "Check refund" asks
            refund.gateway_ref = rec.ref
            db.session.flush()
            return refund, "updated"
        if refund.status == rec.status == "succeeded" and rec.settlement and \
                _settle(deps, actor, tx, refund, rec.settlement):
            return refund, "updated"
        return refund, "created" if created else "unchanged"
    settlement = (rec.settlement.cents, rec.settlement.currency) \
        if _same_books(tx, rec.settlement) else None
    apply_outcome(deps, actor, refund.id, rec.status, rec.ref, rec.failure_message,
                  checked=True, settlement=settlement)
    return refund, "created" if created else "updated"


def _settle(deps, actor, tx, refund, settlement):
    """The gateway's exact figure for a succeeded refund replaces the estimate it was recorded
    with (proportional to the payment's conversion); lifetime value moves by the difference.
    True when something changed."""
    if not settlement.exact or not _same_books(tx, settlement) or \
            (refund.settlement_cents, refund.settlement_currency) == \
            (settlement.cents, settlement.currency):
        return False
    before = {"settlement_cents": refund.settlement_cents,
              "settlement_currency": refund.settlement_currency,
              "lifetime_value_cents": ltv.stored_value(tx.customer)}
    ltv.adjust(tx.customer_id, refund.settlement_cents or 0, refund.settlement_currency,
               deps.store_currency)
    ltv.adjust(tx.customer_id, -settlement.cents, settlement.currency, deps.store_currency)
    refund.settlement_cents, refund.settlement_currency = settlement.cents, settlement.currency
    db.session.flush()
    db.session.refresh(tx.customer)
    audit.record(actor, "refund.settled", tx, outcome="succeeded", gateway_ref=refund.gateway_ref,
                 before=before, after={"settlement_cents": settlement.cents,
                                       "settlement_currency": settlement.currency,
                                       "lifetime_value_cents": ltv.stored_value(tx.customer)})
    return True


def _same_books(tx, settlement):
    """A refund's figure counts only in the currency its payment settled in (a figure in the
    payment's own currency for a converted payment says nothing about the balance)."""
    return settlement is not None and \
        settlement.currency == (tx.settlement_currency or settlement.currency)


def _panel_refund(tx, rec):
    """The panel's refund this record is, found by the key it carries at the gateway (never
    by its amount: two refunds of $10 in flight are two refunds), or None."""
    if not rec.our_key:
        return None
    refund = db.session.scalar(select(Refund).where(Refund.gateway_key == rec.our_key))
    if refund is None or refund.transaction_id != tx.id or \
            refund.gateway_ref not in (None, rec.ref):
        return None
    return refund


def apply_dispute(deps, actor, rec):
    """Record a dispute; a lost one takes its settlement out of lifetime value."""
    tx = _payment_of(rec, "dispute")
    audit.concerns(actor, tx.customer_id)
    dispute = db.session.scalar(select(Dispute).where(Dispute.gateway == rec.gateway,
                                                      Dispute.gateway_ref == rec.ref)
                                .with_for_update())
    if dispute is None and rec.gateway == "paypal":
        dispute = _same_paypal_chargeback(tx, rec)
    created = dispute is None
    if created:
        dispute = Dispute(transaction_id=tx.id, gateway=rec.gateway, gateway_ref=rec.ref,
                          amount_cents=rec.amount_cents, currency=rec.currency, status="open",
                          reason=rec.reason, created_at=rec.created_at)
        db.session.add(dispute)
    before = {"status": dispute.status, "settlement_cents": dispute.settlement_cents,
              "lifetime_value_cents": ltv.stored_value(tx.customer)}
    if rec.settlement and rec.settlement.exact or dispute.settlement_cents is None:
        s = rec.settlement or _proportional(tx, rec.amount_cents)
        if dispute.status == "lost" and s.cents != dispute.settlement_cents:
            ltv.adjust(tx.customer_id, dispute.settlement_cents - s.cents, s.currency,
                       deps.store_currency)
        dispute.settlement_cents, dispute.settlement_currency = s.cents, s.currency
        dispute.fee_cents = s.fee_cents if s.exact else dispute.fee_cents
    if dispute.status == "open" and rec.status != "open":
        dispute.status, dispute.updated_at = rec.status, rec.created_at
        if rec.status == "lost":
            ltv.adjust(tx.customer_id, -dispute.settlement_cents, dispute.settlement_currency,
                       deps.store_currency)
            _take_back(tx, dispute.amount_cents)
    db.session.flush()
    after = {"status": dispute.status, "settlement_cents": dispute.settlement_cents}
    if not created and after == {k: before[k] for k in after}:
        return dispute, "unchanged"
    db.session.refresh(tx.customer)
    audit.record(actor, f"dispute.{dispute.status}", tx, outcome="succeeded",
                 gateway_ref=rec.ref, before=before,
                 after=after | {"lifetime_value_cents": ltv.stored_value(tx.customer)})
    return dispute, "created" if created else "updated"


def _take_back(tx, amount_cents):
    """A lost dispute took amount_cents of the payment back: no longer refundable, and the
    affiliate's commission on it goes too (the same rule as a refund's)."""
    taken = min(amount_cents, tx.net_cents)
    tx.commission_cents -= commission_reversal(tx.commission_cents, tx.net_cents, taken)
    tx.disputed_cents = (tx.disputed_cents or 0) + taken


#: PayPal names the reversal of a chargeback by itself (apply it as a dispute of this ref)
REVERSAL = "reversal:"


def _same_paypal_chargeback(tx, rec):
    """PayPal reports one chargeback twice: as the dispute (CUSTOMER.DISPUTE.*) and as the
    money it reversed (PAYMENT.CAPTURE.REVERSED). The other half of this record's pair on the
    same capture, if it came first; a reversal found this way is renamed to the dispute's id,
    so that the dispute's later events find it."""
    reversal = rec.ref.startswith(REVERSAL)
    candidates = db.session.scalars(select(Dispute).where(
        Dispute.transaction_id == tx.id, Dispute.gateway == "paypal").with_for_update()
        .order_by(Dispute.id)).all()
    for dispute in candidates:
        if dispute.gateway_ref.startswith(REVERSAL) == reversal or dispute.status == "won":
            continue
        if not reversal:
            dispute.gateway_ref = rec.ref
            dispute.reason = rec.reason or dispute.reason
        return dispute
    return None


def _proportional(tx, amount_cents):
    from actions.sync.records import Settlement
    if tx.settlement_cents is None:
        return Settlement(amount_cents, tx.currency, None, exact=False)
    share = (tx.settlement_cents * min(amount_cents, tx.amount_cents) + tx.amount_cents // 2) \
        // max(tx.amount_cents, 1)
    return Settlement(share, tx.settlement_currency, None, exact=False)
