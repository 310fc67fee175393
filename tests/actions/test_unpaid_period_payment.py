"""Subscription.unpaid_from (models/access.py): a payment of the subscription taken after the
paid period ended means the period was paid after all; paused then, access lasts to the end of
the current period again. A payment from before it changes nothing."""
from datetime import datetime, timedelta, timezone

from actions.sync.apply_money import apply_payment
from actions.sync.records import WEBHOOK, CustomerRecord, PaymentRecord, Settlement
from models import Subscription, db
from models.access import has_access
from tests import factories
from tests.actions.support import fresh

PAID_UNTIL = datetime(2026, 12, 20, 10, tzinfo=timezone.utc)
PERIOD_END = datetime(2027, 1, 20, 10, tzinfo=timezone.utc)


def _payment(ref, when):
    return PaymentRecord("stripe", (ref,), CustomerRecord("stripe", "cus_unpaid"), 3000, "USD",
                         "succeeded", when, "Renewal", Settlement(3000, "USD", 0), "sub_unpaid")


def test_a_payment_of_the_subscription_since_the_paid_period_clears_it(deps):
    customer = factories.customer(stripe_customer_id="cus_unpaid")
    sub = factories.subscription(customer, factories.plan(), gateway_id="sub_unpaid",
                                 paused=True, current_period_end=PERIOD_END,
                                 unpaid_from=PAID_UNTIL)
    db.session.commit()
    assert not has_access(fresh(Subscription, sub.id), PAID_UNTIL + timedelta(days=5))

    apply_payment(deps, WEBHOOK, _payment("pi_before", PAID_UNTIL - timedelta(days=31)))
    db.session.commit()
    assert fresh(Subscription, sub.id).unpaid_from == PAID_UNTIL  # an older payment: no news

    apply_payment(deps, WEBHOOK, _payment("pi_since", PAID_UNTIL + timedelta(days=3)))
    db.session.commit()
    sub = fresh(Subscription, sub.id)
    assert sub.unpaid_from is None
    assert has_access(sub, PAID_UNTIL + timedelta(days=5))
    assert not has_access(sub, PERIOD_END + timedelta(seconds=1))
