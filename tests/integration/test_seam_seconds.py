"""Where our clock (microseconds) meets a gateway's (whole seconds): the two violations the
randomized histories found in CI (docs/RELIABILITY.md). Each test puts our clock a fraction
of a second past the sandbox's whole second, as it is most of the time in production."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from actions.subscription_cancel import cancel_subscription
from actions.sync import backfill
from actions.sync.events import reader_for
from actions.sync.sources import PayPalSource
from admin_app.composition import deps_from_app
from models import Customer, Refund, db
from models.access import has_access
from tests.integration.subscription_setup import configure, finance, make  # noqa: F401

pytestmark = pytest.mark.timeout(60)
DAY = 86400


def _at(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc)


@pytest.mark.parametrize("gateway", ["stripe", "paypal"])
def test_cancel_now_ends_access_no_later_than_the_gateway_did(app, sandbox, finance, gateway):
    configure(app, sandbox)
    setup = make(gateway, sandbox)
    sb = sandbox.sandbox
    # the sandbox's clock stands still for the test (this test's Sandbox only): a slow call
    # on a loaded machine must not carry the gateway's second past the one we are in
    sb.frozen_at = sb.now() - sb.offset
    second = sb.now()
    ours = _at(second) + timedelta(microseconds=700_000)  # our clock, 0.7 s into that second

    cancel_subscription(deps_from_app(app, clock=lambda: ours), finance, setup.sub_id,
                        when="now")

    sub = setup.sub()
    with sb.lock:
        there = (sb.stripe.subscriptions if gateway == "stripe"
                 else sb.paypal.subscriptions)[setup.ref]
        # when the gateway says the subscription ended: Stripe's ended_at; PayPal's last
        # status change (the cancellation)
        ended = there["ended_at"] if gateway == "stripe" else int(_at_iso(
            there["status_update_time"]).timestamp())
    assert sub.status == "canceled"
    assert ended <= second + 1
    assert not has_access(sub, _at(ended)), (sub.access_until, _at(ended))
    assert not has_access(sub, ours)
    assert sub.access_until <= _at(ended) and sub.access_until.microsecond == 0


def _at_iso(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_paypal_refund_made_this_second_is_found_by_the_sync(app, sandbox):
    """A refund made in PayPal's own dashboard whose webhook was lost: the sync's last
    window of the transaction search must reach the current (partial) second."""
    configure(app, sandbox)
    app.config.update(SYNC_RATE_LIMIT=1000)
    sb = sandbox.sandbox
    second = sb.now()
    with sb.lock:
        payer = sb.paypal.payer(email="alan@example.com", name="Alan Turing", country="US")
        capture = sb.paypal.capture(payer=payer["payer_id"], amount=5000, currency="USD",
                                    created=second - DAY, description="Course")
        sb.paypal.add_refund(capture["id"], amount=2000, currency="USD", created=second)
    ours = _at(second) + timedelta(microseconds=500_000)
    deps = deps_from_app(app, clock=lambda: ours)

    summary = backfill.run(PayPalSource(deps, reader_for("paypal", deps), None))

    assert not summary.errors
    db.session.expire_all()
    refunds = db.session.scalars(select(Refund)).all()
    assert [r.amount_cents for r in refunds] == [2000]
    alan = db.session.scalar(select(Customer).where(Customer.email == "alan@example.com"))
    assert alan.lifetime_value_cents == 5000 - 2000
