"""A batch of webhook events is applied without a savepoint per event (issue 18, burst
bench: two round trips fewer per event) and its payments are numbered just before its commit
(the invoice-number lock is then not held while the batch runs). When one event of the batch
fails, only that event is undone and marked for a retry, tried once; the others are applied
once, and invoice numbers stay gapless, in the order the payments were applied."""
from sqlalchemy import func, select

from actions import ltv
from actions.sync import events
from admin_app.composition import deps_from_app
from models import AuditEvent, Customer, Transaction, WebhookEvent, db
from tests.fakes import stripe_events as se


def _store(evt):
    return events.store_event("stripe", evt["id"], evt["type"], None, se.body(evt),
                              lane=events.lane_of("stripe", evt))[0]


def _charge(email):
    cust = se.customer(email=email)
    return se.charge(cust["id"], 4900, "usd", bt=se.balance_transaction(4900, "usd", 172),
                     email=email)


def test_a_failing_event_in_a_batch_undoes_only_itself_and_numbers_stay_gapless(app):
    first, second, third = (_charge(f"m{i}@example.com") for i in range(3))
    unknown = se.charge(se.customer()["id"], 4900, "usd")  # never sent, Stripe not configured
    ids = [_store(se.event("charge.succeeded", first)),
           _store(se.event("refund.created", se.refund(unknown, 1000))),  # fails: no parent
           _store(se.event("charge.succeeded", second)),
           _store(se.event("charge.succeeded", third))]

    done = events.apply_batch(deps_from_app(), None, limit=10, delay=lambda attempts: 30.0)

    assert done == {"processed": 3, "retrying": 1}
    rows = {e.id: e for e in db.session.scalars(select(WebhookEvent))}
    assert [(rows[i].status, rows[i].attempts) for i in ids] == [
        ("processed", 1), ("retrying", 1), ("processed", 1), ("processed", 1)]
    assert "MissingParent" in rows[ids[1]].last_error
    numbered = db.session.execute(select(Transaction.gateway_ref, Transaction.invoice_number)
                                  .order_by(Transaction.invoice_number)).all()
    assert [number for _, number in numbered] == [1, 2, 3]
    assert [ref for ref, _ in numbered] == [c["payment_intent"] for c in (first, second, third)] \
        or [ref for ref, _ in numbered] == [c["id"] for c in (first, second, third)]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payment.imported")) == 3
    for customer in db.session.scalars(select(Customer)):
        assert customer.lifetime_value_cents == 4900 == ltv.actual_ltv(customer.id, "USD")


def test_a_batch_without_failures_numbers_its_payments_after_the_earlier_ones(app):
    deps = deps_from_app()
    _store(se.event("charge.succeeded", _charge("a@example.com")))
    events.apply_batch(deps, None)
    _store(se.event("charge.succeeded", _charge("b@example.com")))
    _store(se.event("charge.succeeded", _charge("c@example.com")))
    assert events.apply_batch(deps, None) == {"processed": 2}
    assert sorted(db.session.scalars(select(Transaction.invoice_number))) == [1, 2, 3]
