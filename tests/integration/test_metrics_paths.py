"""Home's figures follow the real paths that change a subscription: an admin's price change
through the action layer (a gateway on loopback HTTP) and the renewal that a webhook applier
then records (issue 19: figures kept by the action layer and the webhook appliers)."""
from datetime import timedelta

import pytest

from actions.metrics import days, figures
from actions.subscription_price import change_subscription_price
from actions.sync.apply_accounts import apply_subscription
from actions.sync.records import WEBHOOK, CustomerRecord, SubscriptionRecord
from models import MetricsDay, db
from models._types import utcnow
from tests.integration.subscription_setup import RENEWAL, deps_at, finance, setup  # noqa: F401

pytestmark = pytest.mark.timeout(60)


def _home():
    return figures.home(utcnow(), "UTC", "USD")


def test_a_price_from_the_next_renewal_counts_when_the_renewal_webhook_arrives(
        app, setup, finance):
    before = _home()
    assert before["mrr_cents"] == 3000  # $30.00 a month
    change_subscription_price(deps_at(app), finance, setup.sub_id, 4500)
    assert _home()["mrr_cents"] == 3000  # still charged $30.00 until the renewal

    sub = setup.sub()
    apply_subscription(deps_at(app), WEBHOOK, SubscriptionRecord(
        gateway=sub.gateway, ref=sub.gateway_id,
        customer=CustomerRecord(gateway=sub.gateway, ref=None), status="active",
        name=sub.name, price_cents=4500, currency="USD", interval="month", interval_count=1,
        start_date=sub.start_date, updated_at=RENEWAL + timedelta(minutes=1),
        current_period_end=RENEWAL + timedelta(days=31)))
    db.session.commit()
    after = _home()
    month = after["months"][-1]
    assert after["mrr_cents"] == 4500
    assert month["expansion_cents"] - before["months"][-1]["expansion_cents"] == 1500

    incremental = sorted(tuple(r) for r in db.session.execute(db.select(MetricsDay.__table__)))
    days.rebuild(utcnow(), "UTC", "USD")
    rebuilt = sorted(tuple(r) for r in db.session.execute(db.select(MetricsDay.__table__)))
    # the same figures (not the instant today's were taken at, column 1)
    assert [r[0:1] + r[2:] for r in rebuilt] == [r[0:1] + r[2:] for r in incremental]
