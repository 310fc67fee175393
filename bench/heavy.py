"""The benchmark's "heavy" customer: 2,000 payments (some refunded) and 20 subscriptions."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select, text

from models import Customer, Plan, Refund, Subscription, Transaction, db

HEAVY_EMAIL = "bench.heavy@example.com"
PAYMENTS, SUBSCRIPTIONS = 2000, 20
DAY = timedelta(days=1)


def ensure_heavy(store_currency):
    """The heavy customer's id, creating the customer (Core bulk inserts) when missing."""
    found = db.session.scalar(select(Customer.id).where(Customer.email == HEAVY_EMAIL))
    if found is not None:
        return found
    plans = db.session.execute(select(Plan.id, Plan.name, Plan.price_cents, Plan.currency,
                                      Plan.interval, Plan.interval_count)
                               .where(Plan.currency == store_currency).order_by(Plan.id)).all()
    if not plans:
        raise RuntimeError(f"no {store_currency} plan: seed the database first")
    next_id = {model: (db.session.scalar(select(func.max(model.id))) or 0) + 1
               for model in (Customer, Subscription, Transaction, Refund)}
    invoice = db.session.scalar(select(func.max(Transaction.invoice_number))) or 0
    now = datetime.now(timezone.utc).replace(microsecond=0)
    start = now - 2100 * DAY
    customer_id = next_id[Customer]
    subscriptions = _subscriptions(customer_id, next_id[Subscription], plans, start, now)
    payments, refunds, ltv = _payments(customer_id, next_id, subscriptions, invoice, start,
                                       store_currency)
    db.session.execute(insert(Customer.__table__), [dict(
        id=customer_id, name="Henrietta Heavyweight", email=HEAVY_EMAIL,
        company="Heavy Benchmarks Ltd", city="Springfield", state="IL", postal_code="62701",
        country="US", lifetime_value_cents=ltv, created_at=start - DAY)])
    for model, rows in ((Subscription, subscriptions), (Transaction, payments),
                        (Refund, refunds)):
        db.session.execute(insert(model.__table__), rows)
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for model in (Customer, Subscription, Transaction, Refund):
            name = f'"{model.__tablename__}"'
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                                    f"(SELECT max(id) FROM {name}))"), {"t": name})
    db.session.commit()
    return customer_id


def _subscriptions(customer_id, first_id, plans, start, now):
    """Nineteen canceled subscriptions one after the other, then an active one."""
    subscriptions = []
    for number in range(SUBSCRIPTIONS):
        plan, sub_id = plans[number % len(plans)], first_id + number
        began = start + number * 100 * DAY
        active = number == SUBSCRIPTIONS - 1
        ended = None if active else began + 95 * DAY
        subscriptions.append(dict(
            id=sub_id, customer_id=customer_id, plan_id=plan.id, name=plan.name,
            status="active" if active else "canceled", price_cents=plan.price_cents,
            currency=plan.currency, interval=plan.interval, interval_count=plan.interval_count,
            start_date=began, next_payment_date=now + 20 * DAY if active else None,
            current_period_end=now + 20 * DAY if active else ended,
            cancel_at_period_end=False, canceled_at=ended, access_until=ended,
            gateway="stripe", gateway_id=f"sub_1BenchHeavy{sub_id:012d}"))
    return subscriptions


def _payments(customer_id, next_id, subscriptions, invoice, start, currency):
    """(payment rows, refund rows, lifetime value): one payment a day, a few failed, every
    40th partly refunded."""
    payments, refunds, ltv = [], [], 0
    for number in range(PAYMENTS):
        tx_id = next_id[Transaction] + number
        sub = subscriptions[number * SUBSCRIPTIONS // PAYMENTS]
        failed = number % 97 == 13
        amount = sub["price_cents"] + (number % 7) * 100
        refunded = 0 if failed or number % 40 else min(amount, 500)
        if not failed:
            invoice += 1
            ltv += amount - refunded
        payments.append(dict(
            id=tx_id, customer_id=customer_id, subscription_id=sub["id"], gateway="stripe",
            gateway_ref=f"pi_3BenchHeavy{tx_id:014d}", amount_cents=amount, tax_cents=0,
            currency=currency, refunded_cents=refunded,
            status="failed" if failed else "succeeded",
            description=f"{sub['name']} — {'renewal' if number else 'first payment'}",
            invoice_number=None if failed else invoice, affiliate_id=None, commission_cents=0,
            created_at=start + timedelta(hours=24 * number + 3)))
        if refunded:
            created = payments[-1]["created_at"] + 2 * DAY
            refunds.append(dict(
                id=next_id[Refund] + len(refunds), transaction_id=tx_id, amount_cents=refunded,
                currency=currency, reason="requested_by_customer",
                note="Partial refund (benchmark data)", status="succeeded",
                gateway_ref=f"re_3BenchHeavy{tx_id:014d}", created_at=created,
                completed_at=created + timedelta(minutes=1)))
    return payments, refunds, ltv
