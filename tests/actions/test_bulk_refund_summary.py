"""The bulk refund's confirmation states the lifetime-value change by what each payment
settled at in the store currency, not by the payment's own currency (issue 17, finding 11)."""
from actions.bulk.refund_remaining import refund_summary
from models import Transaction, db
from tests import factories


def _summary(deps, *txs):
    query = db.session.query(Transaction).filter(Transaction.id.in_([t.id for t in txs]))
    return dict(refund_summary(query, deps)["lines"])


def test_a_euro_payment_settled_in_dollars_changes_lifetime_value_by_its_settlement(deps):
    customer = factories.customer()
    euro = factories.payment(customer, 4900, currency="EUR", settlement_cents=5292,
                             settlement_currency="USD")
    db.session.commit()

    lines = _summary(deps, euro)

    assert lines["Refund in EUR"] == "€49.00 over 1 payment"
    assert lines["Lifetime value change"] == "−$52.92 across 1 customer"


def test_the_change_counts_only_what_is_left_after_refunds_and_lost_disputes(deps):
    ada, bob = factories.customer(), factories.customer()
    partly = factories.payment(ada, 10000, refunded_cents=2500)
    partly.refunds.append(__import__("models").Refund(
        amount_cents=2500, currency="USD", status="succeeded", settlement_cents=2500,
        settlement_currency="USD"))
    kept_in_gbp = factories.payment(bob, 5000, currency="GBP", settlement_cents=4000,
                                    settlement_currency="GBP")  # not counted in USD
    db.session.commit()

    lines = _summary(deps, partly, kept_in_gbp)

    assert lines["Lifetime value change"] == "−$75.00 across 1 customer"
