"""The bulk refund confirmation's lifetime-value figure in SQL, on both databases: settled
amounts in the store currency, a pending refund's share left out."""
from actions.bulk.refund_remaining import refund_summary
from actions.deps import Deps
from models import Refund, Transaction, db
from tests import factories


def test_settled_amounts_and_a_pending_refund_on_both_databases(app):
    ada, bob = factories.customer(), factories.customer()
    euro = factories.payment(ada, 4900, currency="EUR", settlement_cents=5292,
                             settlement_currency="USD")
    pending = factories.payment(bob, 10000)
    pending.refunds.append(Refund(amount_cents=4000, currency="USD", status="pending"))
    db.session.commit()
    query = db.session.query(Transaction).filter(Transaction.id.in_([euro.id, pending.id]))

    lines = dict(refund_summary(query, Deps(store_currency="USD", gateways=None))["lines"])

    assert lines["Lifetime value change"] == "−$112.92 across 2 customers"  # 52.92 + 60.00
