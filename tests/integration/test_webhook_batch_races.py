"""Issue 18: a webhook batch whose event meets another transaction's uncommitted write of the
same row (on PostgreSQL) loses only that event for now. The database refuses the event's
insert once the other transaction commits (here a payment with the same reference, written
by something that took none of the webhook batches' claims); the batch is then redone with a
savepoint per event: the event is marked for a retry, the rest applied. Before, the failed
flush had expired every object, reading the event's id raised PendingRollbackError out of
the batch, and the lane's drain job died with nothing applied. (Two lanes creating one new
customer no longer fail at all: test_webhook_lane_claims.)"""
import json
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from actions.sync import events
from admin_app.composition import deps_from_app
from models import Customer, Transaction, WebhookEvent, db
from tests.fakes import stripe_events as se

pytestmark = pytest.mark.timeout(60)


def _store(evt):
    return events.store_event("stripe", evt["id"], evt["type"], None, se.body(evt),
                              lane=events.lane_of("stripe", evt))[0]


def _charge(cust_id, email, amount=4900):
    return se.event("charge.succeeded", se.charge(
        cust_id, amount, "usd", bt=se.balance_transaction(amount, "usd", 172), email=email))


def test_an_event_refused_for_another_lanes_new_customer_is_retried_and_the_batch_applied(
        app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two transactions writing at once: PostgreSQL")
    racing = _store(_charge("cus_race_new", "race@example.com", 1000))
    other = _store(_charge("cus_race_other", "other@example.com", 2000))
    racing_ref = json.loads(db.session.get(WebhookEvent, racing).payload)["data"]["object"][
        "payment_intent"]
    elsewhere = Customer(name="Race", email="race@example.com",
                         stripe_customer_id="cus_race_elsewhere", lifetime_value_cents=0)
    db.session.add(elsewhere)
    db.session.commit()
    # another transaction is writing the same payment and has not committed yet
    lane = db.engine.connect()
    lane_tx = lane.begin()
    lane.execute(Transaction.__table__.insert().values(
        customer_id=elsewhere.id, gateway="stripe", gateway_ref=racing_ref, amount_cents=1000,
        currency="USD", status="pending", description="Written elsewhere",
        created_at=datetime(2026, 1, 2, tzinfo=timezone.utc)))
    outcome = {}

    def batch():
        with app.app_context():
            try:
                outcome["done"] = events.apply_batch(deps_from_app(), None,
                                                     delay=lambda attempts: 30.0)
            except Exception as exc:  # noqa: BLE001 - the test looks at it
                outcome["error"] = exc
            finally:
                db.session.remove()

    worker = threading.Thread(target=batch, daemon=True)
    worker.start()
    worker.join(3)  # it waits on the other transaction's uncommitted payment
    lane_tx.commit()
    lane.close()
    worker.join(30)

    assert not worker.is_alive()
    assert "error" not in outcome, repr(outcome.get("error"))
    assert outcome["done"] == {"processed": 1, "retrying": 1}
    db.session.expire_all()
    rows = {e.id: e for e in db.session.scalars(select(WebhookEvent))}
    assert (rows[racing].status, rows[racing].attempts) == ("retrying", 1)
    assert "UniqueViolation" in rows[racing].last_error or "unique" in rows[racing].last_error
    assert rows[other].status == "processed"
    assert sorted(db.session.scalars(select(Transaction.amount_cents))) == [1000, 2000]
