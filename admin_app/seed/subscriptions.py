"""Subscription builder: one subscription, or a canceled one and its successor, with dates
that agree with each other and with the payments they produced."""
from datetime import timedelta

from admin_app.seed.codes import BASE36, BASE62, encode_id
from admin_app.seed.payments import Payment
from admin_app.seed.timeline import DAY, Cycle, moment, timestamp_of
from admin_app.seed.writer import SUBSCRIPTIONS

# (status, cumulative probability) of a customer's first subscription, and of the successor
# of one canceled on a change of plan.
FIRST_STATUSES = (("trialing", 0.08), ("past_due", 0.16), ("canceled", 0.38), ("active", 1))
SUCCESSOR_STATUSES = (("trialing", 0.1), ("past_due", 0.2), ("active", 1))


class Schedule:
    """The dates of one subscription and the billing periods it was paid for."""

    def __init__(self, status):
        self.status = status
        self.start = self.period_end = self.next_payment = None
        self.canceled_at = self.access_until = self.failed_at = None
        self.cancel_at_period_end, self.paid = False, []


def add_subscriptions(gen, buyer, earliest, budget, payments):
    """A subscription (or two); appends their payments, returns the unused payment budget."""
    rng, statuses = gen.rng, FIRST_STATUSES
    if budget >= 2 and rng.random() < 0.2:  # changed plans once
        switched = earliest + int((gen.now - earliest) * rng.uniform(0.3, 0.8))
        used, earliest = add_subscription(gen, buyer, "canceled", (earliest, switched),
                                          max(1, budget // 2), payments)
        budget -= used
        statuses = SUCCESSOR_STATUSES
    roll = rng.random()
    status = next(name for name, odds in statuses if roll < odds)
    if budget == 0:
        status = "trialing"
    elif status == "past_due" and budget < 2:
        status = "active"
    used, _ = add_subscription(gen, buyer, status, (earliest, gen.now), budget, payments)
    return budget - used


def add_subscription(gen, buyer, status, window, budget, payments):
    """A subscription within window = (earliest, latest) timestamps, with up to `budget`
    payments. Returns (payments used, canceled_at or start date as a timestamp)."""
    plan = gen.plans[gen.rng.choices(range(len(gen.plans)), cum_weights=gen.plan_weights)[0]]
    cycle = Cycle(plan.interval, plan.interval_count)
    dates = schedule(gen, status, cycle, window, budget)
    sub_id = gen.take_id("subscription")
    if buyer.gateway == "stripe":
        ref = "sub_1" + encode_id(sub_id, 8, BASE62, 3) + gen.base62(15)
    else:
        ref = "I-" + encode_id(sub_id, 6, BASE36, 3) + gen.base36(6)
    cancel_at = None
    if dates.cancel_at_period_end and buyer.gateway == "stripe":
        # as Stripe holds it (API 2026-10-28): the scheduled end is its cancel_at, and the
        # period still ends on a payment date until then
        cancel_at = dates.next_payment = dates.period_end
    value = gen.datetime_value
    stored = [None if when is None else value(timestamp_of(when)) for when in (
        dates.start, dates.next_payment, dates.period_end)]
    ended = [None if when is None else value(timestamp_of(when))
             for when in (dates.canceled_at, dates.access_until)]
    gen.rows[SUBSCRIPTIONS].append((
        sub_id, buyer.customer_id, plan.id, plan.name, dates.status, plan.price_cents,
        plan.currency, plan.interval, plan.interval_count, *stored, dates.cancel_at_period_end,
        *ended, buyer.gateway, ref, buyer.affiliate.id if buyer.affiliate else None,
        None if cancel_at is None else value(timestamp_of(cancel_at))))
    for number, paid_at in enumerate(dates.paid):
        payments.append(Payment(timestamp_of(paid_at), sub_id, buyer.gateway, plan.price_cents,
                                plan.currency, "succeeded",
                                f"{plan.name} — {'renewal' if number else 'first payment'}"))
    if dates.failed_at:
        payments.append(Payment(timestamp_of(dates.failed_at) + gen.randint(60, 3 * 3600),
                                sub_id, buyer.gateway, plan.price_cents, plan.currency,
                                "failed", f"{plan.name} — renewal"))
    return len(dates.paid) + (1 if dates.failed_at else 0), timestamp_of(
        dates.canceled_at or dates.start)


def schedule(gen, status, cycle, window, budget):
    """The subscription's dates; a past_due one too new for a missed renewal becomes active."""
    earliest = window[0]
    dates, last = Schedule(status), None
    if status == "past_due":  # the last renewal failed 1-18 days ago
        dates.failed_at = cycle.anchor(moment(gen.now - gen.randint(DAY, 18 * DAY)))
        last = cycle.shift(dates.failed_at, -1)
        if last < moment(earliest):
            dates.status, dates.failed_at = "active", None
    if dates.status == "trialing":
        dates.start = moment(gen.randint(max(earliest, gen.now - 14 * DAY), gen.now))
        dates.period_end = dates.next_payment = dates.start + timedelta(days=14)
        return dates
    if dates.status in ("active", "canceled"):
        last, budget = _last_paid_period(gen, dates, cycle, window, budget)
    _paid_periods(dates, cycle, last, earliest, max(1, budget - (1 if dates.failed_at else 0)))
    if dates.status == "active":
        dates.cancel_at_period_end = gen.rng.random() < 0.12
        if dates.cancel_at_period_end:
            dates.access_until = dates.period_end
        else:
            dates.next_payment = dates.period_end
    elif dates.status == "past_due":
        # as the gateways hold it: the period whose renewal failed has begun; the payment
        # of it (retried by the gateway) is what is due
        dates.period_end = dates.next_payment = cycle.shift(dates.failed_at, 1)
        gen.randint(DAY // 2, 4 * DAY)  # the draw the retry date took: same data after it
    else:
        dates.access_until = dates.period_end
    return dates


def _last_paid_period(gen, dates, cycle, window, budget):
    """Start of the last paid period of an active or canceled subscription, and the budget
    (1 when the window holds no full period); sets canceled_at."""
    earliest, latest = window
    anchor = gen.now if dates.status == "active" else gen.randint(earliest, latest)
    last = cycle.anchor(moment(anchor - gen.randint(0, int(cycle.shortest_seconds * 0.85))))
    if last < moment(earliest):
        last, budget = cycle.anchor(moment(gen.randint(earliest, anchor))), 1
    dates.canceled_at = moment(anchor) if dates.status == "canceled" else None
    return last, budget


def _paid_periods(dates, cycle, last, earliest, count):
    """Up to `count` paid periods ending with the one that starts at `last`."""
    while count > 1 and cycle.shift(last, 1 - count) < moment(earliest):
        count -= 1
    dates.start = cycle.shift(last, 1 - count)
    dates.paid = [cycle.shift(dates.start, number) for number in range(count)]
    dates.period_end = cycle.shift(last, 1)
