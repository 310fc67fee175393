"""Payment builder: one-time purchases, the transaction rows of all payments, their refunds."""
from typing import NamedTuple

from actions import ltv
from actions.commission import commission_base, commission_reversal
from admin_app.seed.catalog import COUPONS, PRODUCTS, REFUND_FAILURES, REFUND_NOTES, REFUND_REASONS
from admin_app.seed.timeline import DAY
from admin_app.seed.writer import REFUNDS, TRANSACTIONS


class Buyer(NamedTuple):
    """Who pays: the customer, the gateway they mostly use, the affiliate who brought them."""
    customer_id: int
    gateway: str
    affiliate: object  # a (id, commission_rate_bp) row, or None


class Payment(NamedTuple):
    """A payment to write as a transaction row; `at` is a POSIX timestamp."""
    at: int
    subscription_id: int | None
    gateway: str
    amount: int
    currency: str
    status: str
    description: str


def one_time_purchases(gen, buyer, country, signed_up, earliest, count, first_payments):
    """`count` purchases between `earliest` and now; often the first right after sign-up."""
    times = sorted(gen.randint(earliest, gen.now) for _ in range(count))
    if times and first_payments and gen.rng.random() < 0.6:
        times[0] = min(signed_up + gen.randint(60, 3600), gen.now)  # bought right after sign-up
    return [_purchase(gen, at, buyer.gateway, country) for at in times]


def _purchase(gen, at, gateway, country):
    rng = gen.rng
    product, price = rng.choice(PRODUCTS)
    currency = (gen.other_currency if country in gen.foreign_countries and rng.random() < 0.07
                else gen.store_currency)
    amount, description = price * gen.price_factor[currency], f"{product} — one-time purchase"
    if rng.random() < 0.15:
        code, percent = rng.choice(COUPONS)
        amount, description = amount * (100 - percent) // 100, f"{product} — coupon {code}"
    roll = rng.random()
    status = ("failed" if roll < 0.04 else
              "pending" if roll < 0.2 and gen.now - at < 10 * DAY else "succeeded")
    if rng.random() >= 0.92:  # now and then paid through the other gateway
        gateway = "paypal" if gateway == "stripe" else "stripe"
    return Payment(at, None, gateway, amount, currency, status, description)


def included_tax(amount, tax_bp):
    """The tax inside a tax-inclusive price, rounded half up (0 without a rate)."""
    if not tax_bp:
        return 0
    return (amount * tax_bp + (10000 + tax_bp) // 2) // (10000 + tax_bp)


def sale_commission(amount, rate_bp, refunded, tax=0):
    """Rate x the commission base (without tax), less the reversal the refunds took back (the
    refund action's rule)."""
    full = (commission_base(amount, tax) * rate_bp + 5000) // 10000
    return full - commission_reversal(full, amount, refunded)


#: what one unit of each currency is worth in US dollars (plausible settlement amounts)
USD_VALUE = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CHF": 1.13, "CAD": 0.73, "AUD": 0.66,
             "JPY": 0.0067, "SEK": 0.095, "DKK": 0.145, "PLN": 0.25}


def settlement(gen, gateway, amount, currency, at):
    """(settled, fee) in the store currency as a gateway would pay it out: foreign payments
    converted at a plausible rate that moves a little from day to day (no draw from the
    random stream); the fee as charged (Stripe 2.9 % + 30, PayPal 3.49 % + 49 cents)."""
    store, factor = gen.store_currency, gen.price_factor
    settled = amount
    if currency != store:
        rate = USD_VALUE.get(currency, 1) / USD_VALUE.get(store, 1)
        rate *= 1 + ((at // DAY) % 41 - 20) / 1000
        settled = int(amount * rate * factor[store] / factor[currency] + 0.5)
    pct, fixed = (290, 30) if gateway == "stripe" else (349, 49)
    return settled, (settled * pct + 5000) // 10000 + fixed * factor[store] // 100


def record_transactions(gen, buyer, payments, tax_bp):
    """The transaction rows (and refunds) of the payments in time order; returns the
    customer's lifetime value (actions/ltv.py): succeeded payments' settlement in the store
    currency, net of their refunds' settlement."""
    lifetime_value, rows = 0, gen.rows[TRANSACTIONS]
    affiliate = buyer.affiliate
    payments.sort(key=lambda payment: payment.at)
    for payment in payments:
        tx_id = gen.take_id("transaction")
        refunded = commission = settled_back = 0
        invoice = None
        settled, fee = settlement(gen, payment.gateway, payment.amount, payment.currency,
                                  payment.at)
        if payment.status == "succeeded":
            gen.last_invoice = invoice = gen.last_invoice + 1
            if payment.amount and gen.rng.random() < 0.05:
                refunded, settled_back = add_refunds(gen, tx_id, payment, settled,
                                                     buyer.customer_id)
            if affiliate:
                commission = sale_commission(payment.amount, affiliate.commission_rate_bp,
                                             refunded, included_tax(payment.amount, tax_bp))
        if ltv.counts(payment.status, gen.store_currency, gen.store_currency):
            lifetime_value += settled - settled_back
        rows.append((
            tx_id, buyer.customer_id, payment.subscription_id, payment.gateway,
            gen.reference(payment.gateway, tx_id, "pi_3", 1), payment.amount,
            included_tax(payment.amount, tax_bp), payment.currency, refunded, payment.status,
            payment.description, invoice, affiliate.id if affiliate else None, commission,
            gen.datetime_value(payment.at), settled, gen.store_currency, fee))
    return lifetime_value


def add_refunds(gen, tx_id, payment, settled, customer_id):
    """One or two refunds of a payment, partial or full; returns the succeeded total and
    its share of the settlement (proportional; what is left for a refund of the rest)."""
    rng, now = gen.rng, gen.now
    unit = gen.price_factor.get(payment.currency, 100)
    left, refunded, back, at = payment.amount, 0, 0, payment.at
    count = 2 if rng.random() < 0.25 else 1
    for position in range(count):
        roll = rng.random()
        if roll < 0.05:  # pending ones are recent
            status, at = "pending", min(max(at + 60, now - gen.randint(60, 2 * DAY)), now)
        else:
            status = "failed" if roll < 0.1 else "succeeded"
            at = min(at + gen.randint(600, 45 * DAY), now)
        value = left
        if position < count - 1 or rng.random() < 0.45:  # partial, in whole units if possible
            value = max(1, left * gen.randint(10, 60) // 100)
            value -= value % unit if value > unit else 0
        share = settled - back if value >= left else \
            (settled * value + payment.amount // 2) // payment.amount
        _refund_row(gen, tx_id, payment, value, status, at, share, customer_id)
        left -= 0 if status == "failed" else value
        refunded += value if status == "succeeded" else 0
        back += share if status == "succeeded" else 0
        if status == "pending" or not left:
            break
    return refunded, back


def _refund_row(gen, tx_id, payment, value, status, at, share, customer_id):
    rng = gen.rng
    refund_id = gen.take_id("refund")
    reason = rng.choice(REFUND_REASONS)
    gen.rows[REFUNDS].append((
        refund_id, tx_id, value, payment.currency, reason, rng.choice(REFUND_NOTES[reason]),
        status, gen.reference(payment.gateway, refund_id, "re_3", 2),
        REFUND_FAILURES[payment.gateway] if status == "failed" else None,
        gen.datetime_value(at),
        None if status == "pending" else gen.datetime_value(min(at + gen.randint(1, 300),
                                                                gen.now)),
        share, gen.store_currency, customer_id))
