"""A Stripe renewal whose invoice.paid webhook was lost, brought in by the sync: a charge does
not name its invoice (today's API), so the sync lists the paid invoices too and links the
renewal to its subscription: the subscription's affiliate earns the commission on it, as when
the webhook arrives. On the test's sandbox Stripe."""
from sqlalchemy import select

from actions.sync import backfill
from actions.sync.events import reader_for
from actions.sync.sources import StripeSource
from admin_app.composition import deps_from_app
from models import Transaction, db
from sandbox.control import advance
from tests import factories
from tests.integration.subscription_setup import RENEWAL, TENTH, configure, make


def test_a_renewal_the_sync_brings_in_earns_the_subscriptions_affiliate_its_commission(
        app, sandbox):
    configure(app, sandbox)
    setup = make("stripe", sandbox)  # $30.00 a month, renewing on 20 Dec
    partner = factories.affiliate(rate_bp=1000)
    setup.sub().affiliate_id = partner.id
    db.session.commit()
    advance(sandbox.sandbox, seconds=int((RENEWAL - TENTH).total_seconds()) + 3600, wait=0)
    now = sandbox.sandbox.now_dt()
    deps = deps_from_app(app, clock=lambda: now)

    summary = backfill.run(StripeSource(deps, reader_for("stripe", deps)))
    assert not summary.errors
    renewal = db.session.scalar(select(Transaction).where(Transaction.status == "succeeded"))
    assert (renewal.amount_cents, renewal.created_at) == (3000, RENEWAL)
    assert renewal.subscription_id == setup.sub_id
    assert (renewal.affiliate_id, renewal.commission_cents) == (partner.id, 300)

    again = backfill.run(StripeSource(deps, reader_for("stripe", deps)), dry_run=True)
    assert again.counts["updated"] == 0 and again.counts["created"] == 0
