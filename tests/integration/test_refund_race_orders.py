"""Any order of panel refunds, their answers (or lost answers) and their webhooks (early,
late, twice or never) ends with one row per gateway refund and the money of both ledgers
equal (issue 17, finding 1, as a property over orderings)."""
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from actions import ltv
from actions.deps import Deps
from actions.errors import GatewayUnavailable
from actions.refund import check_refund, refund_transaction
from models import Customer, Refund, Transaction, db
from tests import factories
from tests.conftest import make_admin
from tests.fakes import stripe_events as se
from tests.fakes.memory_gateway import MemoryGateway
from tests.integration.test_dispute_money import deliver

WHEN = st.sampled_from(["early", "late", "twice", "never"])
_refs = itertools.count(1)


class Racing(MemoryGateway):
    """Runs `meanwhile[n]()` after making the n-th refund, before answering; a lost answer
    (`lose` holds n) raises after the refund was made."""

    def __init__(self):
        super().__init__()
        self.meanwhile, self.lose, self.made = {}, set(), []

    def refund(self, payment_ref, amount_cents, currency, **kw):
        n = len(self.made)
        if n in self.lose:
            self.fail_next("reset_after_success")
        try:
            result = super().refund(payment_ref, amount_cents, currency, **kw)
        finally:
            if len(self.made) == n and self.refund_keys:
                self.made.append(list(self.refund_keys)[-1])
            if n in self.meanwhile:
                self.meanwhile.pop(n)()
        return result


def _event(gateway, ref, payment_ref):
    _payment, key = gateway.refund_keys[ref]
    amount = next(r for r in gateway.made_amounts if r[0] == ref)[1]
    return se.event("refund.created", {
        "id": ref, "object": "refund", "amount": amount, "currency": "usd",
        "payment_intent": payment_ref, "charge": None, "status": "succeeded",
        "balance_transaction": None, "created": 1767398400, "reason": None,
        "metadata": {"memberdesk_key": key}}, event_id=f"evt_{ref}_{next(_refs)}")


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(refunds=st.lists(st.tuples(st.integers(100, 3000), WHEN, st.booleans()),
                        min_size=1, max_size=3))
def test_any_order_of_answers_and_webhooks_counts_each_refund_once(app, refunds):
    payment_ref = f"pi_order{next(_refs)}"
    customer = factories.customer()
    tx = factories.payment(customer, 10000, gateway_ref=payment_ref)
    db.session.commit()
    gateway = Racing()
    gateway.add_payment(payment_ref, 10000)
    gateway.made_amounts = []
    deps = Deps(store_currency="USD", gateways=lambda name: gateway)
    finance = make_admin("finance", email=f"finance{next(_refs)}@example.com")
    gateway.lose = {i for i, (_a, _w, lost) in enumerate(refunds) if lost}
    original = gateway._make_refund

    def remember(ref, amount, currency):
        result = original(ref, amount, currency)
        gateway.made_amounts.append((result.reference, amount))
        return result
    gateway._make_refund = remember

    def start(i):
        def go():
            try:
                refund_transaction(deps, finance, tx.id, refunds[i][0], "other")
            except GatewayUnavailable:
                pass  # the answer was lost: the refund stays pending here
        return go

    def early(i):
        def go():
            if i + 1 < len(refunds):
                start(i + 1)()
            if refunds[i][1] in ("early", "twice"):
                deliver("stripe", _event(gateway, gateway.made[i], payment_ref))
        return go
    gateway.meanwhile = {i: early(i) for i in range(len(refunds))}

    start(0)()
    for i, (_amount, when, _lost) in enumerate(refunds):
        if when in ("late", "twice"):
            deliver("stripe", _event(gateway, gateway.made[i], payment_ref))
    db.session.rollback()
    for refund in db.session.scalars(select(Refund).where(Refund.status == "pending")).all():
        check_refund(deps, finance, refund.id)  # what an admin does about the rest

    db.session.expire_all()
    rows = db.session.scalars(select(Refund).where(Refund.transaction_id == tx.id)).all()
    total = sum(a for a, _w, _l in refunds)
    assert sorted(r.gateway_ref for r in rows) == sorted(gateway.made)
    assert all(r.status == "succeeded" for r in rows)
    assert gateway.refunded_total(payment_ref) == total
    assert db.session.get(Transaction, tx.id).refunded_cents == total
    assert db.session.get(Customer, customer.id).lifetime_value_cents == 10000 - total
    assert ltv.actual_ltv(customer.id, "USD") == 10000 - total
