"""A price changed "from the next renewal" shows what the customer pays today with
"→ $45.00 from 20 Dec 2026" in the Subscriptions list, the profile and Edit Subscription, on
both gateways, until the renewal (issue 21 item 4)."""
from datetime import timedelta

import pytest

from actions.subscription_price import change_subscription_price
from actions.sync.apply_accounts import apply_subscription
from actions.sync.records import WEBHOOK, CustomerRecord, SubscriptionRecord
from models import db
from tests.conftest import login
from tests.integration.subscription_setup import RENEWAL, deps_at, finance, setup  # noqa: F401

pytestmark = pytest.mark.timeout(60)
NOTE = "→ $45.00 from 20 Dec 2026"


def _pages(client, sub):
    listing = client.get("/admin/subscription/").get_data(as_text=True)
    profile = client.get(f"/admin/customer/profile/{sub.customer_id}/?modal=1").get_data(
        as_text=True)
    return listing, profile


def test_the_total_says_the_new_price_and_from_when(app, client, setup, finance):
    change_subscription_price(deps_at(app), finance, setup.sub_id, 4500)
    login(client, "owner")
    for page in _pages(client, setup.sub()):
        assert "$30.00" in page and NOTE in page and "md-price-next" in page
    modal = client.get(f"/admin/subscription/action/subscription_price/{setup.sub_id}/"
                       "?modal=1").get_data(as_text=True)
    assert f"$30.00 · Monthly {NOTE}" in modal

    sub = setup.sub()  # the renewal reaches us: the new total alone
    apply_subscription(deps_at(app), WEBHOOK, SubscriptionRecord(
        gateway=sub.gateway, ref=sub.gateway_id,
        customer=CustomerRecord(gateway=sub.gateway, ref=None), status="active",
        name=sub.name, price_cents=4500, currency="USD", interval="month", interval_count=1,
        start_date=sub.start_date, updated_at=RENEWAL + timedelta(minutes=1),
        current_period_end=RENEWAL + timedelta(days=31)))
    db.session.commit()
    for page in _pages(client, setup.sub()):
        assert "$45.00" in page and "→ $45.00" not in page and "$30.00" not in page
