"""Issue 18: the gateway reads a webhook batch needs are made before the batch's transaction.
A refund that arrives before its payment makes the worker fetch the payment (and what it
settled at) from Stripe; done inside the batch's transaction, every lock the batch holds (its
events, payments, customers) would be held while Stripe answers. A real RQ worker against
Redis applies such a refund through the sandbox's Stripe, which takes 2 s to answer each
read; its database sessions, watched in pg_stat_activity meanwhile, are never idle in a
transaction for anything like that long, and the refund and its payment are applied once."""
import time

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from admin_app import create_app
from models import Customer, Refund, Transaction, db
from tests.conftest import _config
from tests.fakes import stripe_events as se
from tests.redis_support import (REDIS_URL, longest_idle_in_transaction, start_worker,
                                 stop_workers, worker_env)
from tests.webhook_helpers import event_status

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SLOW = 2.0  # seconds the sandbox takes to answer each call
#: the longest a worker's session may sit idle in a transaction (the batch itself takes
#: milliseconds; a gateway read inside it would take SLOW)
IDLE_IN_TRANSACTION_LIMIT = 1.0






def test_a_refund_before_its_payment_reads_stripe_outside_the_batch_transaction(
        app, database_url, tmp_path, stripe_reads, redis_queue):
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_stat_activity: PostgreSQL only")
    cust = stripe_reads.add(se.customer(email="early@example.com", name="Early Refund"))
    bt = stripe_reads.add(se.balance_transaction(4900, "usd", 172))
    charge = stripe_reads.add(se.charge(cust["id"], 4900, "usd", bt["id"],
                                        email="early@example.com", name="Early Refund"))
    refund = se.event("charge.refund.updated", se.refund(charge, 1000))  # its payment: unknown
    settings = dict(STRIPE_WEBHOOK_SECRET=se.SECRET, STRIPE_API_KEY=se.API_KEY,
                    STRIPE_API_BASE=stripe_reads.url, STRIPE_MAX_RETRIES="0",
                    STRIPE_TIMEOUT="30", WEBHOOK_RETRY_DELAY="60")
    web = create_app({**_config(database_url, tmp_path), "REDIS_URL": REDIS_URL,
                      "RQ_QUEUE": redis_queue, **settings})
    response = web.test_client().post("/webhooks/stripe", data=se.body(refund),
                                      content_type="application/json",
                                      headers={"Stripe-Signature": se.sign(se.body(refund))})
    assert response.status_code == 200, response.get_data(as_text=True)
    stripe_reads.sb.latency = SLOW
    app_name = f"{redis_queue}-worker"
    worker_url = make_url(database_url).update_query_dict(
        {"application_name": app_name}).render_as_string(hide_password=False)
    watch = create_engine(database_url, isolation_level="AUTOCOMMIT")
    worker = start_worker(worker_env(worker_url, redis_queue, **settings),
                          name=f"{redis_queue}-a")
    longest, reads = 0.0, 0
    try:
        deadline = time.monotonic() + 90
        while event_status(refund["id"]) != "processed":
            assert worker.poll() is None, worker.stdout.read()
            assert time.monotonic() < deadline, f"not applied: {event_status(refund['id'])}"
            longest = max(longest, longest_idle_in_transaction(watch, app_name))
            time.sleep(0.05)
        reads = sum(1 for call in stripe_reads.sb.calls if call.method == "GET")
    finally:
        stop_workers(worker)
        watch.dispose()

    # the payment was fetched (with what it settled at) and imported once, then refunded
    assert reads == 2  # the charge and its balance transaction, each read once
    payment = db.session.scalar(select(Transaction))
    assert db.session.scalar(select(func.count(Transaction.id))) == 1
    assert (payment.gateway_ref in (charge["id"], charge["payment_intent"]),
            payment.refunded_cents) == (True, 1000)
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert db.session.scalar(select(Customer.lifetime_value_cents)) == 3900
    # and no transaction stayed open while Stripe answered
    assert longest < IDLE_IN_TRANSACTION_LIMIT, \
        f"a worker's session sat idle in a transaction for {longest:.2f} s"
