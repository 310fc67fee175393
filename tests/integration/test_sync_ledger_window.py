"""The dry run's lifetime-value check against PayPal's own records, which reach back only as
far as its transaction search (three years): a customer who paid before that cannot be
compared, and is said to be left out, not reported as a difference (the randomized
histories, 56 simulated years long, found every long-time PayPal customer reported)."""
from datetime import timedelta

import pytest

from actions.sync import backfill
from actions.sync.events import reader_for
from actions.sync.sources import PayPalSource
from admin_app.composition import deps_from_app
from models import Refund, db
from tests import factories
from tests.integration.subscription_setup import configure

pytestmark = pytest.mark.timeout(60)


def _dry_run(app, now):
    deps = deps_from_app(app, clock=lambda: now)
    return backfill.run(PayPalSource(deps, reader_for("paypal", deps), None), dry_run=True)


def test_a_customer_who_paid_before_paypals_records_reach_is_left_out(app, sandbox):
    configure(app, sandbox)
    app.config.update(SYNC_RATE_LIMIT=1000)
    now = sandbox.sandbox.now_dt()
    old = factories.customer(name="Old Timer", email="old@example.com")
    factories.payment(old, 7000, gateway="paypal", created_at=now - timedelta(days=4 * 365))
    factories.payment(old, 3000, gateway="paypal", created_at=now - timedelta(days=20))
    recent = factories.customer(name="New Comer", email="new@example.com")
    paid = factories.payment(recent, 5000, gateway="paypal",
                             created_at=now - timedelta(days=10))
    db.session.commit()

    summary = _dry_run(app, now)

    assert summary.ltv_compared and summary.ltv_differences == []
    assert summary.ltv_not_compared == 1

    # the check still sees a difference where the gateway's records do reach: a refund of
    # the recent payment that only we have
    db.session.add(Refund(transaction_id=paid.id, customer_id=recent.id, amount_cents=1000,
                          currency="USD", status="succeeded", settlement_cents=1000,
                          settlement_currency="USD", created_at=now - timedelta(days=1)))
    db.session.commit()
    summary = _dry_run(app, now)
    assert summary.ltv_not_compared == 1
    assert [(d["email"], d["here_cents"], d["gateway_cents"])
            for d in summary.ltv_differences] == [("new@example.com", 4000, 5000)]
