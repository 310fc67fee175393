"""Property: any order and any duplication of a customer's Stripe event stream ends in the
same state as the stream in order (failed events being retried, as the worker does)."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin_app.composition import deps_from_app
from actions.sync.events import pending_events, process_event, store_event
from models import db
from tests.db_reset import empty_tables as _empty_tables
from tests.fakes import stripe_events as se
from tests.webhook_helpers import snapshot

T0 = 1767312000


def _stream():
    """A customer's life at Stripe: sign-up, subscription, renewal, refunds, a lost dispute,
    a change of details, a cancellation; each event one second after the previous."""
    cust = se.customer("cus_prop", email="ada@old.example", name="Ada")
    sub = se.subscription("cus_prop", "sub_prop", amount=4900, currency="usd")
    ch1 = se.charge("cus_prop", 4900, "eur", se.balance_transaction(5260, "usd", 183),
                    pi="pi_prop1", created=T0 + 3)
    ch2 = se.charge("cus_prop", 4900, "usd", se.balance_transaction(4900, "usd", 172),
                    pi="pi_prop2", created=T0 + 5)
    ref1 = se.refund(ch1, 2000, "pending", refund_id="re_prop1")
    ref1_done = dict(ref1, status="succeeded", balance_transaction=se.balance_transaction(
        -2150, "usd"))
    ref2 = se.refund(ch2, 4900, "succeeded", se.balance_transaction(-4900, "usd"),
                     refund_id="re_prop2")
    loss = se.balance_transaction(-3110, "usd", 1500)  # what was left of €49 - €20
    steps = [
        ("customer.created", cust),
        ("customer.subscription.created", sub),
        ("invoice.paid", se.invoice("cus_prop", "sub_prop", "pi_prop1", currency="eur")),
        ("charge.succeeded", ch1),
        ("refund.created", ref1),
        ("charge.succeeded", ch2),
        ("refund.updated", ref1_done),
        ("customer.updated", dict(cust, email="ada@new.example", name="Ada King")),
        ("charge.refunded", dict(ch2, amount_refunded=4900, refunds={"data": [ref2]})),
        ("charge.dispute.created", se.dispute(ch1, dispute_id="dp_prop", bts=[loss], amount=2900)),
        ("customer.subscription.updated", dict(sub, cancel_at_period_end=True)),
        ("charge.dispute.closed", se.dispute(ch1, "lost", dispute_id="dp_prop", bts=[loss],
                                                    amount=2900)),
        ("customer.subscription.deleted", dict(sub, status="canceled", canceled_at=T0 + 12)),
    ]
    return [se.event(t, o, created=T0 + i, event_id=f"evt_prop{i}")
            for i, (t, o) in enumerate(steps)]


STREAM = _stream()


def _apply(app, deliveries):
    """Store and process deliveries as the endpoint and the worker would; retry what failed."""
    deps = deps_from_app(app)
    for evt in deliveries:
        row_id, new = store_event("stripe", evt["id"], evt["type"], None, json.dumps(evt))
        if new:
            process_event(deps, row_id, max_attempts=100)
    for _ in range(len(deliveries)):
        waiting = pending_events()
        if not waiting:
            break
        for row_id in waiting:
            process_event(deps, row_id, max_attempts=100)
    assert not pending_events()
    db.session.expire_all()
    return snapshot()


_EXPECTED = {}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(order=st.permutations(range(len(STREAM))),
       repeats=st.lists(st.integers(0, len(STREAM) - 1), max_size=6))
def test_any_order_and_duplication_ends_in_the_in_order_state(app, order, repeats):
    app.config.update(STRIPE_API_KEY="")  # nothing can be fetched: the events alone
    url = app.config["DATABASE_URL"]
    if url not in _EXPECTED:  # the in-order result, once per database
        _empty_tables()
        _EXPECTED[url] = _apply(app, STREAM)
    expected = _EXPECTED[url]
    assert expected["customers"][0][0] == "ada@new.example"
    assert expected["customers"][0][-1] == "0"  # 5260 - 2150 - 3110 + 4900 - 4900
    _empty_tables()
    shuffled = [STREAM[i] for i in order] + [STREAM[i] for i in repeats]
    assert _apply(app, shuffled) == expected
