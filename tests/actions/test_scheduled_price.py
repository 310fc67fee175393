"""A price changed "from the next renewal" (issue 21 item 4): the customer is charged the old
price until that renewal, the admin sees "→ $59.00 from <date>" beside it, and the new total
stands alone once the gateway reports the renewal (webhook or sync)."""
from datetime import timedelta

import pytest

from actions.subscription_plan import change_subscription_plan
from actions.subscription_price import change_subscription_price
from actions.sync.apply_accounts import apply_subscription
from actions.sync.records import SYNC, CustomerRecord, SubscriptionRecord
from models import Subscription, db
from models.dates import add_cycle
from models.sub_state import price_note
from tests.actions.conftest import NOW
from tests.actions.support import audit_entries, fresh, other_plan, subscribed


@pytest.fixture
def finance(actors):
    return actors["finance"]


def note(deps, sub):
    return price_note(sub, deps.money, deps.day)


def sync(deps, rec):
    apply_subscription(deps, SYNC, rec)
    db.session.commit()


def record(sub, *, price_cents, period_end, updated_at, status="active"):
    """The gateway's state of `sub` as its webhook or the sync reads it."""
    return SubscriptionRecord(
        gateway=sub.gateway, ref=sub.gateway_id,
        customer=CustomerRecord(gateway=sub.gateway, ref=None, email=sub.customer.email),
        status=status, name=sub.name, price_cents=price_cents, currency=sub.currency,
        interval=sub.interval, interval_count=sub.interval_count, start_date=sub.start_date,
        updated_at=updated_at, current_period_end=period_end)


def test_stripe_charges_the_old_price_until_the_renewal_then_the_new_one(deps, finance,
                                                                         gateways):
    sub = subscribed(gateways)  # $49.00 a month, renews 31 Jan 2026
    renewal = sub.next_payment_date

    change_subscription_price(deps, finance, sub.id, 5900)

    sub = fresh(Subscription, sub.id)
    assert (sub.charged_cents, sub.price_cents, sub.price_from) == (4900, 5900, renewal)
    assert note(deps, sub) == "→ $59.00 from 31 Jan 2026"
    entry = audit_entries("subscription.price")[-1]
    assert entry.after["price_before_cents"] == 4900 and entry.after["price_from"]

    # Stripe's customer.subscription.updated for the change itself: same period, new price
    sync(deps, record(sub, price_cents=5900, period_end=renewal,
                                          updated_at=NOW + timedelta(minutes=1)))
    sub = fresh(Subscription, sub.id)
    assert sub.charged_cents == 4900 and note(deps, sub) == "→ $59.00 from 31 Jan 2026"

    # the renewal: the period moves on
    sync(deps, record(sub, price_cents=5900,
                                          period_end=renewal + timedelta(days=28),
                                          updated_at=renewal + timedelta(minutes=1)))
    sub = fresh(Subscription, sub.id)
    assert (sub.charged_cents, sub.price_cents, sub.price_from) == (5900, 5900, None)
    assert note(deps, sub) == ""
    assert audit_entries("subscription.synced")[-1].after == {
        "current_period_end": (renewal + timedelta(days=28)).isoformat(),
        "next_payment_date": (renewal + timedelta(days=28)).isoformat(),
        "price_before_cents": None, "price_from": None}


def test_a_price_changed_at_the_gateway_meanwhile_ends_the_wait(deps, finance, gateways):
    sub = subscribed(gateways)
    change_subscription_price(deps, finance, sub.id, 5900)
    sub = fresh(Subscription, sub.id)
    sync(deps, record(sub, price_cents=6900,
                                          period_end=sub.current_period_end,
                                          updated_at=NOW + timedelta(minutes=1)))
    sub = fresh(Subscription, sub.id)
    assert (sub.charged_cents, sub.price_cents, note(deps, sub)) == (6900, 6900, "")


def test_now_with_proration_and_going_back_to_the_price_charged_leave_nothing_waiting(
        deps, finance, gateways):
    sub = subscribed(gateways)
    change_subscription_price(deps, finance, sub.id, 5900)
    change_subscription_price(deps, finance, sub.id, 4900)  # back to what is charged
    sub = fresh(Subscription, sub.id)
    assert (sub.charged_cents, sub.price_cents, sub.price_from) == (4900, 4900, None)

    change_subscription_price(deps, finance, sub.id, 5900)
    change_subscription_price(deps, finance, sub.id, 6900)  # another new price, same wait
    sub = fresh(Subscription, sub.id)
    assert (sub.charged_cents, sub.price_cents) == (4900, 6900)
    change_subscription_price(deps, finance, sub.id, 7900, effective="now")
    sub = fresh(Subscription, sub.id)
    assert (sub.charged_cents, sub.price_cents, sub.price_from) == (7900, 7900, None)


def test_a_plan_change_replaces_a_waiting_price(deps, finance, gateways):
    sub = subscribed(gateways)
    change_subscription_price(deps, finance, sub.id, 5900)
    change_subscription_plan(deps, finance, sub.id, other_plan(9900).id)
    sub = fresh(Subscription, sub.id)
    assert (sub.charged_cents, sub.price_from, note(deps, sub)) == (9900, None, "")


def test_paypal_renewal_within_ten_days_keeps_the_old_price_one_more_cycle(deps, finance,
                                                                            gateways, clock):
    sub = subscribed(gateways, gateway="paypal")  # renews 31 Jan 2026
    renewal = sub.next_payment_date
    clock.advance(days=15)  # 5 Jan... 26 Jan 2026: the renewal is 5 days away

    result = change_subscription_price(deps, finance, sub.id, 5900)

    sub = fresh(Subscription, sub.id)
    assert sub.price_from == add_cycle(renewal, "month") and sub.charged_cents == 4900
    assert note(deps, sub) == "→ $59.00 from 28 Feb 2026"
    assert result.message == ("The subscription costs $59.00 from the renewal on 28 Feb 2026 "
                              "(PayPal's 10-day notice rule applies).")


def test_add_cycle_clamps_month_ends():
    start = NOW.replace(month=1, day=31)
    assert add_cycle(start, "month").day == 28
    assert add_cycle(start, "month", 3).month == 4 and add_cycle(start, "month", 3).day == 30
    assert add_cycle(start, "year").year == 2027
    assert add_cycle(start, "week", 2) == start + timedelta(days=14)
