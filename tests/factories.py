"""Small builders for test data: explicit values, no randomness."""
from datetime import datetime, timedelta, timezone

from actions import ltv
from models import Affiliate, Customer, Plan, Subscription, Transaction, db
from tests.gateway_sandbox import seed_payment

BASE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
_counter = {"n": 0}


def _next():
    _counter["n"] += 1
    return _counter["n"]


def customer(**kw):
    n = _next()
    values = dict(name=f"Customer {n}", email=f"customer{n}@example.com",
                  created_at=BASE_TIME + timedelta(minutes=n), lifetime_value_cents=0)
    values.update(kw)
    obj = Customer(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


#: plausible conversion rates into USD (the tests' store currency), per minor unit
USD_RATES = {"USD": 1, "EUR": 1.08, "GBP": 1.27, "CHF": 1.13, "CAD": 0.73, "AUD": 0.66,
             "JPY": 0.67}  # JPY has no minor unit: ¥100 -> 67 cents


def settled_in_usd(amount_cents, currency):
    """What a gateway would pay out in USD for a payment (integer cents, half up)."""
    return int(amount_cents * USD_RATES[currency] + 0.5)


def payment(cust, amount_cents=5000, *, gateway="stripe", currency="USD", status="succeeded",
            minutes=0, **kw):
    """A payment settled in USD (foreign ones at USD_RATES, unless settlement_* are given);
    a succeeded one adds its settlement in USD to the customer's lifetime value."""
    n = _next()
    values = dict(customer_id=cust.id, gateway=gateway,
                  gateway_ref=kw.pop("gateway_ref", f"pi_test{n}" if gateway == "stripe"
                                     else f"CAPTURE{n:011d}"),
                  amount_cents=amount_cents, currency=currency, status=status,
                  description=kw.pop("description", f"Course purchase {n}"),
                  invoice_number=n if status == "succeeded" else None,
                  created_at=BASE_TIME + timedelta(days=1, minutes=minutes or n),
                  settlement_currency="USD")
    values.update(kw)
    if values.get("settlement_cents") is None:
        values["settlement_cents"] = (amount_cents if values["settlement_currency"] == currency
                                      else settled_in_usd(amount_cents, currency))
    tx = Transaction(**values)
    db.session.add(tx)
    if ltv.counts(status, tx.settlement_currency, "USD"):  # the tests' STORE_CURRENCY
        cust.lifetime_value_cents += tx.settlement_cents
    db.session.flush()
    seed_payment(tx, cust)  # the gateway (the test's sandbox) has it too
    return tx


def affiliate(rate_bp=1000, **kw):
    n = _next()
    obj = Affiliate(name=kw.pop("name", f"Affiliate {n}"), email=f"aff{n}@example.com",
                    commission_rate_bp=rate_bp, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def plan(name="Pro Monthly", price_cents=4900, interval="month", interval_count=1, **kw):
    obj = Plan(name=name, price_cents=price_cents, currency=kw.pop("currency", "USD"),
               interval=interval, interval_count=interval_count, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def subscription(cust, the_plan, *, status="active", gateway="stripe", start_days=0, **kw):
    n = _next()
    start = BASE_TIME + timedelta(days=start_days)
    values = dict(customer_id=cust.id, plan_id=the_plan.id, name=the_plan.name, status=status,
                  price_cents=the_plan.price_cents, currency=the_plan.currency,
                  interval=the_plan.interval, interval_count=the_plan.interval_count,
                  start_date=start, next_payment_date=start + timedelta(days=30),
                  current_period_end=start + timedelta(days=30), gateway=gateway,
                  gateway_id=f"sub_{n}" if gateway == "stripe" else f"I-{n:012d}")
    values.update(kw)
    obj = Subscription(**values)
    db.session.add(obj)
    db.session.flush()
    return obj
