"""Issue 18: webhook batches of two lanes that pay the same customer do not wait for each
other. A renewal's events travel in two lanes (the charge's, the customer's), each drained by
its own worker in one transaction per batch; a batch that locked the customer's row from its
first payment of that customer to its commit made the other lane's batch wait for all of it
(and two batches taking two customers in opposite orders deadlocked). Now a payment of a
customer we have takes no lock on the customer, and the lifetime values are added at the
batch's end, customers in the order of their ids.

Two real RQ workers against Redis: lane 1's batch pays customer X, then waits inside its
transaction for a payment's row that the test holds (a batch makes no gateway read inside its
transaction any more: the stand-in for a slow step); lane 2's batch, paying X too, is applied
meanwhile. Both lifetime values come out exact."""
import time

import pytest
from sqlalchemy import func, select, text

from actions.sync.events import lane_of
from admin_app import create_app
from models import Customer, Transaction, WebhookEvent, db
from tests import factories
from tests.conftest import _config
from tests.fakes import stripe_events as se
from tests.integration.test_job_chunks import _wait_registered
from tests.redis_support import REDIS_URL, start_worker, stop_workers, worker_env
from tests.webhook_helpers import event_status

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

#: how long lane 2's event may take while lane 1's batch is held (the hold lasts until the
#: test releases it, 30 s at most; generous for a loaded machine)
WITHIN = 20


def _charge_in_lane(lane, cust_id, amount, email):
    """A charge event of `amount` whose lane (its charge id's hash) is `lane`."""
    charge = se.charge(cust_id, amount, "usd", bt=se.balance_transaction(amount, "usd", 30),
                       email=email, name=None)
    n = 0
    while lane_of("stripe", se.event("charge.succeeded", charge)) != lane:
        n += 1
        charge["id"] = f"ch_lane{lane}_{n}"
    return se.event("charge.succeeded", charge)




class _RowHold:
    """A payment of X's and an event of `lane` about it (charge.updated), whose row a
    connection of the test holds: the lane's batch waits there, inside its transaction,
    until release()."""

    def __init__(self, cust, lane, amount=700):
        payment = factories.payment(cust, amount, gateway_ref=f"pi_held_{lane}")
        db.session.commit()
        charge = _charge_in_lane(lane, cust.stripe_customer_id, amount, cust.email)
        charge["data"]["object"]["payment_intent"] = payment.gateway_ref
        self.event = se.event("charge.updated", charge["data"]["object"])
        self._conn = db.engine.connect()
        self._tx = self._conn.begin()
        self._conn.execute(select(Transaction.id).where(Transaction.id == payment.id)
                           .with_for_update())

    def waited_on(self, seconds):
        """Whether some session came to wait for a lock within `seconds`."""
        return _wait(lambda: db.session.execute(text(
            "SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar() > 0 and
            db.session.rollback() is None, seconds)

    def release(self):
        if self._conn is not None:
            self._tx.rollback()
            self._conn.close()
            self._conn = None


def _wait(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_two_lanes_paying_the_same_customer_do_not_wait_for_each_others_batch(
        app, database_url, tmp_path, stripe_reads, redis_queue):
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks between two workers: PostgreSQL")
    x = factories.customer(email="x@example.com", stripe_customer_id="cus_lanes_x")
    db.session.commit()
    first = _charge_in_lane(1, "cus_lanes_x", 1000, "x@example.com")
    hold = _RowHold(x, 1)  # lane 1's second event waits for the payment's row (held)
    unknown = hold.event
    other_lane = _charge_in_lane(2, "cus_lanes_x", 2000, "x@example.com")
    settings = dict(STRIPE_WEBHOOK_SECRET=se.SECRET, STRIPE_API_KEY=se.API_KEY,
                    STRIPE_API_BASE=stripe_reads.url, STRIPE_MAX_RETRIES="0",
                    STRIPE_TIMEOUT="40", WEBHOOK_RETRY_DELAY="60")
    web = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                      "RQ_QUEUE": redis_queue, **settings}).test_client()

    def post(evt):
        response = web.post("/webhooks/stripe", data=se.body(evt),
                            content_type="application/json",
                            headers={"Stripe-Signature": se.sign(se.body(evt))})
        assert response.status_code == 200, response.get_data(as_text=True)

    post(first)  # both of lane 1's events wait for the workers: one batch
    post(unknown)
    env = worker_env(database_url, redis_queue, **settings)
    names = [f"{redis_queue}-a", f"{redis_queue}-b"]
    workers = [start_worker(env, name=name) for name in names]
    try:
        _wait_registered(redis_queue, names)
        assert hold.waited_on(60), "lane 1's batch never reached the held row"
        post(other_lane)  # the other worker drains lane 2 while lane 1's batch is held
        in_time = _wait(lambda: event_status(other_lane["id"]) == "processed", WITHIN)
        hold.release()
        assert _wait(lambda: {event_status(e["id"]) for e in (first, unknown, other_lane)}
                     == {"processed"}, 90), "not every event was applied"
    finally:
        hold.release()
        stop_workers(*workers)

    assert in_time, "lane 2's batch waited for lane 1's (a lock on the customer's row)"
    db.session.expire_all()
    assert db.session.get(Customer, x.id).lifetime_value_cents == 3700
    assert db.session.scalar(select(func.count(Transaction.id))) == 3
    assert set(db.session.scalars(select(WebhookEvent.attempts))) == {1}


def test_a_payment_both_lanes_bring_is_created_once_the_second_lane_waiting_for_the_first(
        app, database_url, tmp_path, stripe_reads, redis_queue):
    """A Stripe renewal: its charge.succeeded (the charge's lane) and its invoice.paid (the
    customer's lane) both bring the new payment. Lane 1's batch creates it and is held at
    a row the test holds, before its commit; lane 2 waits for that commit (a lock on the payment's
    reference) and then finds the payment, instead of inserting it too and being refused
    (which cost the event a retry)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two workers writing at once: PostgreSQL")
    x = factories.customer(email="x@example.com", stripe_customer_id="cus_renewing_x")
    db.session.commit()
    renewal = se.event("invoice.paid", se.invoice("cus_renewing_x", None, "pi_renewal_1"))
    lane_2 = lane_of("stripe", renewal)
    lane_1 = (lane_2 + 1) % 16
    paid = _charge_in_lane(lane_1, "cus_renewing_x", 4900, "x@example.com")
    paid["data"]["object"]["payment_intent"] = "pi_renewal_1"
    hold = _RowHold(x, lane_1)
    unknown = hold.event
    settings = dict(STRIPE_WEBHOOK_SECRET=se.SECRET, STRIPE_API_KEY=se.API_KEY,
                    STRIPE_API_BASE=stripe_reads.url, STRIPE_MAX_RETRIES="0",
                    STRIPE_TIMEOUT="40", WEBHOOK_RETRY_DELAY="1")
    web = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                      "RQ_QUEUE": redis_queue, **settings}).test_client()

    def post(evt):
        response = web.post("/webhooks/stripe", data=se.body(evt),
                            content_type="application/json",
                            headers={"Stripe-Signature": se.sign(se.body(evt))})
        assert response.status_code == 200, response.get_data(as_text=True)

    post(paid)
    post(unknown)
    env = worker_env(database_url, redis_queue, **settings)
    names = [f"{redis_queue}-a", f"{redis_queue}-b"]
    workers = [start_worker(env, name=name) for name in names]
    try:
        _wait_registered(redis_queue, names)
        assert hold.waited_on(60), "lane 1's batch never reached the held row"
        post(renewal)  # lane 2, while lane 1 has created the payment but not committed
        time.sleep(3)  # lane 2 reaches the payment meanwhile
        hold.release()
        assert _wait(lambda: {event_status(e["id"]) for e in (paid, unknown, renewal)}
                     == {"processed"}, 90), "not every event was applied"
    finally:
        hold.release()
        stop_workers(*workers)

    db.session.expire_all()
    assert db.session.scalar(select(func.count(Transaction.id)).where(
        Transaction.gateway_ref == "pi_renewal_1")) == 1
    assert set(db.session.scalars(select(WebhookEvent.attempts))) == {1}  # none refused
    assert db.session.get(Customer, x.id).lifetime_value_cents == 4900 + 700
