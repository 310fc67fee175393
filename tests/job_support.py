"""Shared setup of the job tests: payments to refund in bulk, waiting for jobs."""
import time

from models import Customer, Job, Transaction, db
from tests import factories


def point_stripe_at(app, fake):
    """The app's Stripe adapter pointed at the test's sandbox (`fake`: its StripeBulkView)."""
    app.config.update(STRIPE_API_KEY=fake.api_key, STRIPE_API_BASE=fake.url,
                      STRIPE_MAX_RETRIES=0, STRIPE_TIMEOUT=5, STRIPE_RATE_LIMIT=500.0)


def make_payments(n, amount=1000, per_customer=2):
    """n succeeded USD Stripe payments of `amount`, two per customer; returns their ids."""
    ids, customer = [], None
    for i in range(n):
        if i % per_customer == 0:
            customer = factories.customer()
        ids.append(factories.payment(customer, amount).id)
    db.session.commit()
    return ids


def snapshot():
    """What a user would compare: each payment's refunded amount, each customer's LTV."""
    db.session.expire_all()
    refunded = dict(db.session.execute(db.select(Transaction.gateway_ref,
                                                 Transaction.refunded_cents)).all())
    ltv = dict(db.session.execute(db.select(Customer.id, Customer.lifetime_value_cents)).all())
    return refunded, ltv


def wait_for_job(job_id, timeout=60, until=lambda job: job.finished):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if until(job):
            return job
        db.session.rollback()
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {job.state} "
                         f"{job.processed}/{job.total}")
