"""Fast, deterministic, realistic demo data: customers, payments, refunds, subscriptions.

seed() appends after the highest existing id of every table (so it can add to a database in
use), continues invoice numbers gaplessly after the highest one (in transaction id order) and
stores each customer's lifetime value as it generates the payments, so nothing is recomputed
afterwards. It generates and writes per batch of customers (memory stays flat), with COPY on
PostgreSQL (psycopg 3), the driver's executemany on SQLite and Core executemany elsewhere; it
commits every batch (every ~25k customers on SQLite, see below).
"""
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from time import gmtime, strftime

from babel.numbers import get_currency_precision
from sqlalchemy import func, insert, select, text
from tqdm import tqdm

from admin_app import seed_data as D
from admin_app.seed_data import A36, A62, billing_cap, encode_id, shift
from models import Affiliate, Customer, Plan, Refund, Subscription, Transaction, db

UTC = timezone.utc
DAY = 86400
COLUMNS = {  # the tables in foreign-key order, with the columns seed() fills, in row order
    Customer.__table__: (
        "id name email company company_id company_email tax_id phone address city state "
        "postal_code country vat_number stripe_customer_id paypal_payer_id "
        "lifetime_value_cents created_at").split(),
    Subscription.__table__: (
        "id customer_id plan_id name status price_cents currency interval interval_count "
        "start_date next_payment_date current_period_end cancel_at_period_end canceled_at "
        "access_until gateway gateway_id affiliate_id").split(),
    Transaction.__table__: (
        "id customer_id subscription_id gateway gateway_ref amount_cents tax_cents currency "
        "refunded_cents status description invoice_number affiliate_id commission_cents "
        "created_at settlement_cents settlement_currency fee_cents").split(),
    Refund.__table__: (
        "id transaction_id amount_cents currency reason note status gateway_ref "
        "failure_message created_at completed_at settlement_cents settlement_currency").split(),
}
CUSTOMERS, SUBSCRIPTIONS, TRANSACTIONS, REFUNDS = COLUMNS


def seed(n_customers: int, tx_per_customer: int, *, store_currency: str = "USD",
         random_seed: int = 7, progress: bool = True, batch_size: int = 5000,
         now: datetime | None = None) -> dict:
    """Add n_customers customers with about tx_per_customer payments each; returns counts.

    Needs an app context and the schema. `now` (aware) pins the clock for reproducible
    output; by default it is the current time.
    """
    now_ts = int((now or datetime.now(UTC)).timestamp())
    rng = random.Random(random_seed)
    with db.engine.connect() as conn:
        writer = _Writer(conn)
        with conn.begin():
            plans, affiliates = _ensure_catalog(conn, rng, store_currency)
            next_ids = [conn.scalar(select(func.coalesce(func.max(t.c.id), 0))) + 1
                        for t in COLUMNS]
            invoice = conn.scalar(select(func.coalesce(func.max(TRANSACTIONS.c.invoice_number),
                                                       0)))
        gen = _Generator(rng, now_ts, store_currency, plans, affiliates, next_ids, invoice,
                         tx_per_customer, writer.datetime_value)
        batches = [(lo, min(lo + batch_size, n_customers), n_customers)
                   for lo in range(0, n_customers, batch_size)]
        # A SQLite commit rewrites every index page the transaction touched, and random keys
        # (e-mails, gateway ids, dates) touch most of them: commit every ~25k customers there.
        per_commit = max(1, 25000 // batch_size) if writer.name == "sqlite" else 1
        restore = writer.tune()
        try:
            # One thread generates the next batch while this one waits on the database.
            with tqdm(total=n_customers, unit=" customers", disable=not progress) as bar, \
                    ThreadPoolExecutor(1) as ahead:
                pending = ahead.submit(gen.batch, *batches[0]) if batches else None
                for i, (lo, hi, _) in enumerate(batches):
                    rows = pending.result()
                    if i + 1 < len(batches):
                        pending = ahead.submit(gen.batch, *batches[i + 1])
                    if not conn.in_transaction():
                        conn.begin()
                    for table, table_rows in rows.items():
                        writer.write(table, table_rows)
                    writer.after_batch()
                    if (i + 1) % per_commit == 0 or i + 1 == len(batches):
                        conn.commit()
                    bar.update(hi - lo)
            if writer.name == "postgresql":
                with conn.begin():
                    conn.execute(text('ANALYZE customer, "transaction", refund, subscription'))
        finally:
            if conn.in_transaction():
                conn.rollback()
            restore()
    return gen.counts


def _ensure_catalog(conn, rng, currency):
    """The plans and affiliates to use; creates the default ones when there are none."""
    P, A = Plan.__table__, Affiliate.__table__
    plans = select(P.c.id, P.c.name, P.c.price_cents, P.c.currency, P.c.interval,
                   P.c.interval_count, P.c.active).order_by(P.c.id)
    if not conn.execute(plans).first():
        conn.execute(insert(P), [
            {"name": name, "price_cents": price * _factor(currency), "currency": currency,
             "interval": interval, "interval_count": count, "active": active,
             "stripe_price_id": "price_1" + "".join(rng.choices(A62, k=23)),
             "paypal_plan_id": "P-" + "".join(rng.choices(A36, k=24))}
            for name, price, interval, count, active in D.PLANS])
    if not conn.scalar(select(func.count()).select_from(A)):
        conn.execute(insert(A), [
            {"name": name, "commission_rate_bp": rate,
             "email": ".".join(map(D.ascii_slug, name.split())) + "@partners.example.org"}
            for name, rate in D.AFFILIATES])
    affiliates = select(A.c.id, A.c.commission_rate_bp).order_by(A.c.id)
    return conn.execute(plans).all(), conn.execute(affiliates).all()


def _factor(currency):
    """Minor units per unit of the price lists (keeps prices sensible for JPY or KWD too)."""
    return 10 ** max(get_currency_precision(currency), 2)


def _dt(ts):
    return datetime.fromtimestamp(ts, UTC)


class _Writer:
    def __init__(self, conn):
        self.conn, self.name = conn, conn.dialect.name
        self.raw = conn.connection.driver_connection
        self.copy = self.name == "postgresql" and conn.dialect.driver == "psycopg"
        self.quote = conn.dialect.identifier_preparer.quote
        self.datetime_value = _dt
        if self.name == "sqlite":  # the exact text UTCDateTime stores, but ~3x faster
            proc = CUSTOMERS.c.created_at.type.dialect_impl(conn.dialect).bind_processor(
                conn.dialect)
            fast = lambda ts: strftime("%Y-%m-%d %H:%M:%S.000000", gmtime(ts))  # noqa: E731
            sample = 1709211907  # 2024-02-29 13:05:07
            self.datetime_value = fast if proc(_dt(sample)) == fast(sample) else (
                lambda ts: proc(_dt(ts)))

    def tune(self):
        """Faster SQLite writes for the duration of the seed; returns the undo function."""
        if self.name != "sqlite":
            return lambda: None
        old = {p: self.raw.execute(f"PRAGMA {p}").fetchone()[0]
               for p in ("synchronous", "cache_size")}
        self.raw.execute("PRAGMA synchronous=OFF")
        self.raw.execute("PRAGMA cache_size=-131072")  # 128 MiB
        return lambda: [self.raw.execute(f"PRAGMA {p}={v}") for p, v in old.items()]

    def write(self, table, rows):
        if not rows:
            return
        cols = COLUMNS[table]
        name, names = self.quote(table.name), ", ".join(self.quote(c) for c in cols)
        if self.copy:
            with self.raw.cursor() as cur, cur.copy(f"COPY {name} ({names}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        elif self.name == "sqlite":
            marks = ", ".join("?" * len(cols))
            self.raw.executemany(f"INSERT INTO {name} ({names}) VALUES ({marks})", rows)
        else:
            self.conn.execute(insert(table), [dict(zip(cols, row)) for row in rows])

    def after_batch(self):
        """PostgreSQL sequences do not move for explicit ids: keep them past the new rows."""
        if self.name == "postgresql":
            for table in COLUMNS:
                name = self.quote(table.name)
                self.conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                                       f"(SELECT max(id) FROM {name}))"), {"t": name})


class _Generator:
    def __init__(self, rng, now, store, plans, affiliates, next_ids, invoice, k, dt):
        self.r, self.now, self.store, self.k, self.dt = rng, now, store, k, dt
        self.plans, self.affiliates, self.invoice = plans, affiliates, invoice
        self.cid, self.sid, self.tid, self.rid = next_ids
        self.span = 3 * 365 * DAY
        self.other = "EUR" if store != "EUR" else "USD"
        self.foreign = D.EU if self.other == "EUR" else {"US"}  # who sometimes pays in `other`
        self.factor = {store: _factor(store), self.other: _factor(self.other)}
        weights = dict(zip([p[0] for p in D.PLANS], D.PLAN_WEIGHTS))
        self.plan_cum = list(accumulate(weights.get(p.name, 10 if p.active else 2)
                                        for p in plans))
        self.pool62 = ["".join(rng.choices(A62, k=8)) for _ in range(4096)]
        self.pool36 = ["".join(rng.choices(A36, k=8)) for _ in range(4096)]
        self.counts = dict.fromkeys(("customers", "transactions", "refunds", "subscriptions"), 0)

    def ri(self, a, b):
        """random.randint(a, b) without its overhead (uniform enough for these spans)."""
        return a + int(self.r.random() * (b - a + 1))

    def suffix(self, pool, k):
        """k random characters (up to 16), cheaper than random.choices."""
        bits = self.r.getrandbits
        return (pool[bits(12)] + pool[bits(12)])[:k]

    def ref(self, gateway, n, stripe_prefix, salt):
        """Stripe-like 'pi_3…' ids or 17-character PayPal ids, unique through the row id."""
        if gateway == "stripe":
            return stripe_prefix + encode_id(n, 8, A62, salt) + self.suffix(self.pool62, 15)
        return encode_id(n, 8, A36, salt) + self.suffix(self.pool36, 9)

    def batch(self, lo, hi, total):
        self.rows = {table: [] for table in COLUMNS}
        for i in range(lo, hi):
            self.customer(i, total)
        for table, key in ((CUSTOMERS, "customers"), (TRANSACTIONS, "transactions"),
                           (REFUNDS, "refunds"), (SUBSCRIPTIONS, "subscriptions")):
            self.counts[key] += len(self.rows[table])
        return self.rows

    def customer(self, i, total):
        r, ri, now = self.r, self.ri, self.now
        cid, self.cid = self.cid, self.cid + 1
        # Ids follow created_at; sign-ups grow over the three years.
        ct = now - self.span + int(self.span * ((i + r.random()) / total) ** 0.75)
        details = D.customer_details(r, cid)  # name, e-mail, address, company
        gateway = "stripe" if r.random() < 0.72 else "paypal"
        both = r.random() < 0.08
        stripe_id = ("cus_" + encode_id(cid, 7, A62, 0) + self.suffix(self.pool62, 7)
                     if gateway == "stripe" or both else None)
        payer_id = (encode_id(cid, 7, A36, 0) + self.suffix(self.pool36, 6)
                    if gateway == "paypal" or both else None)
        affiliate = r.choice(self.affiliates) if self.affiliates and r.random() < 0.2 else None
        cc, tax_bp = details["country"], details.pop("tax_bp")  # tax included in B2C prices

        # Payments: first those of the subscriptions, the rest are one-time purchases.
        payments = []
        budget = ri(1, 2 * self.k - 1) if self.k > 0 else 0
        lo = min(ct + 60, now)
        if r.random() < 0.3:
            budget = self.subscriptions(cid, lo, budget, gateway, affiliate, payments)
        times = sorted(ri(lo, now) for _ in range(budget))
        if times and not payments and r.random() < 0.6:
            times[0] = min(ct + ri(60, 3600), now)  # bought right after signing up
        for ts in times:
            product, price = r.choice(D.PRODUCTS)
            currency = self.other if cc in self.foreign and r.random() < 0.07 else self.store
            amount, description = price * self.factor[currency], f"{product} — one-time purchase"
            if r.random() < 0.15:
                code, percent = r.choice(D.COUPONS)
                amount, description = amount * (100 - percent) // 100, f"{product} — coupon {code}"
            roll = r.random()
            status = ("failed" if roll < 0.04 else "pending" if roll < 0.2 and now - ts < 10 * DAY
                      else "succeeded")
            gw = gateway if r.random() < 0.92 else ("paypal" if gateway == "stripe" else "stripe")
            payments.append((ts, None, gw, amount, currency, status, description))

        ltv, rows = 0, self.rows[TRANSACTIONS]
        aff_id = affiliate[0] if affiliate else None
        payments.sort(key=lambda p: p[0])
        for ts, sub_id, gw, amount, currency, status, description in payments:
            tid, self.tid = self.tid, self.tid + 1
            tax = (amount * tax_bp + (10000 + tax_bp) // 2) // (10000 + tax_bp) if tax_bp else 0
            refunded = commission = settled_back = 0
            invoice = None
            settled, fee = self.settlement(gw, amount, currency, ts)
            if status == "succeeded":
                self.invoice = invoice = self.invoice + 1
                if amount and r.random() < 0.05:
                    refunded, settled_back = self.refunds(tid, ts, gw, amount, currency, settled)
                if affiliate:  # rate x amount, reversed in proportion to what was refunded
                    commission = (amount * affiliate[1] + 5000) // 10000
                    commission -= (2 * commission * refunded + amount) // (2 * amount)
                ltv += settled - settled_back  # actions/ltv.py: settlement amounts count
            rows.append((tid, cid, sub_id, gw, self.ref(gw, tid, "pi_3", 1), amount, tax,
                         currency, refunded, status, description, invoice, aff_id, commission,
                         self.dt(ts), settled, self.store, fee))
        self.rows[CUSTOMERS].append((cid, *details.values(), stripe_id, payer_id, ltv,
                                     self.dt(ct)))

    def settlement(self, gateway, amount, currency, ts):
        """(settled, fee) in the store currency: foreign payments converted at a plausible
        rate that moves a little from day to day (no draw from the random stream); the fee
        as the gateways charge it (Stripe 2.9 % + 30, PayPal 3.49 % + 49 cents)."""
        settled = amount
        if currency != self.store:
            rate = D.USD_VALUE.get(currency, 1) / D.USD_VALUE.get(self.store, 1)
            rate *= 1 + ((ts // DAY) % 41 - 20) / 1000
            settled = int(amount * rate * self.factor[self.store] / self.factor[currency] + 0.5)
        pct, fixed = (290, 30) if gateway == "stripe" else (349, 49)
        return settled, (settled * pct + 5000) // 10000 + fixed * self.factor[self.store] // 100

    def refunds(self, tid, ts, gateway, amount, currency, settled):
        """One or two refunds, partial or full; returns the succeeded total and its share of
        the settlement (in proportion; all that is left for the last of a full refund)."""
        r, ri, now, factor = self.r, self.ri, self.now, self.factor.get(currency, 100)
        left, refunded, back, t, n = amount, 0, 0, ts, 2 if r.random() < 0.25 else 1
        for j in range(n):
            roll = r.random()
            if roll < 0.05:  # pending ones are recent
                status, t = "pending", min(max(t + 60, now - ri(60, 2 * DAY)), now)
            else:
                status, t = "failed" if roll < 0.1 else "succeeded", min(t + ri(600, 45 * DAY), now)
            value = left
            if j < n - 1 or r.random() < 0.45:  # partial, in whole units when possible
                value = max(1, left * ri(10, 60) // 100)
                value -= value % factor if value > factor else 0
            rid, self.rid = self.rid, self.rid + 1
            reason = r.choice(D.REFUND_REASONS)
            share = settled - back if value >= left else (settled * value + amount // 2) // amount
            self.rows[REFUNDS].append((
                rid, tid, value, currency, reason, r.choice(D.REFUND_NOTES[reason]), status,
                self.ref(gateway, rid, "re_3", 2),
                D.REFUND_FAILURES[gateway] if status == "failed" else None, self.dt(t),
                None if status == "pending" else self.dt(min(t + ri(1, 300), now)),
                share, self.store))
            left -= 0 if status == "failed" else value
            refunded += value if status == "succeeded" else 0
            back += share if status == "succeeded" else 0
            if status == "pending" or not left:
                break
        return refunded, back

    def subscriptions(self, cid, lo, budget, gateway, affiliate, payments):
        """One subscription, or a canceled one and its successor; returns the unused budget."""
        r, now = self.r, self.now
        statuses = (("trialing", 0.08), ("past_due", 0.16), ("canceled", 0.38), ("active", 1))
        if budget >= 2 and r.random() < 0.2:  # changed plans once
            split = lo + int((now - lo) * r.uniform(0.3, 0.8))
            used, lo = self.subscription(cid, "canceled", lo, split, max(1, budget // 2),
                                         gateway, affiliate, payments)
            budget -= used
            statuses = (("trialing", 0.1), ("past_due", 0.2), ("active", 1))
        roll = r.random()
        status = next(s for s, p in statuses if roll < p)
        if budget == 0:
            status = "trialing"
        elif status == "past_due" and budget < 2:
            status = "active"
        return budget - self.subscription(cid, status, lo, now, budget, gateway, affiliate,
                                          payments)[0]

    def subscription(self, cid, status, lo, hi, budget, gateway, affiliate, payments):
        """A subscription within [lo, hi] with coherent dates and up to `budget` payments.

        Returns (payments used, canceled_at or start_date as a timestamp)."""
        r, ri, now = self.r, self.ri, self.now
        plan = self.plans[r.choices(range(len(self.plans)), cum_weights=self.plan_cum)[0]]
        count = plan.interval_count
        months, days = {"month": (count, 0), "year": (12 * count, 0),
                        "week": (0, 7 * count)}.get(plan.interval, (0, count))
        shortest = (28 * months + days) * DAY
        cap = billing_cap if months else (lambda d: d)
        next_payment = canceled_at = access_until = failed_at = None
        cancel_at_period_end, paid = False, []
        if status == "past_due":  # the last renewal failed 1-18 days ago
            failed_at = cap(_dt(now - ri(DAY, 18 * DAY)))
            last = shift(failed_at, months, days, -1)
            if last < _dt(lo):  # too new a customer for a missed renewal
                status, failed_at = "active", None
        if status == "trialing":
            start = _dt(ri(max(lo, now - 14 * DAY), now))
            period_end = next_payment = start + timedelta(days=14)
        else:
            if status in ("active", "canceled"):
                anchor = now if status == "active" else ri(lo, hi)  # canceled_at
                last = cap(_dt(anchor - ri(0, int(shortest * 0.85))))
                if last < _dt(lo):
                    last, budget = _dt(ri(lo, anchor)), 1
                canceled_at = _dt(anchor) if status == "canceled" else None
            m = max(1, budget - (1 if failed_at else 0))
            while m > 1 and shift(last, months, days, 1 - m) < _dt(lo):
                m -= 1
            start = shift(last, months, days, 1 - m)
            paid = [shift(start, months, days, j) for j in range(m)]
            period_end = shift(last, months, days, 1)
            if status == "active":
                cancel_at_period_end = r.random() < 0.12
                next_payment = None if cancel_at_period_end else period_end
                access_until = period_end if cancel_at_period_end else None
            elif status == "past_due":
                next_payment = _dt(now + ri(DAY // 2, 4 * DAY))  # the next retry
            else:
                access_until = period_end
        sid, self.sid = self.sid, self.sid + 1
        ref = ("sub_1" + encode_id(sid, 8, A62, 3) + self.suffix(self.pool62, 15)
               if gateway == "stripe" else
               "I-" + encode_id(sid, 6, A36, 3) + self.suffix(self.pool36, 6))
        dt = lambda d: None if d is None else self.dt(int(d.timestamp()))  # noqa: E731
        self.rows[SUBSCRIPTIONS].append((
            sid, cid, plan.id, plan.name, status, plan.price_cents, plan.currency, plan.interval,
            count, dt(start), dt(next_payment), dt(period_end), cancel_at_period_end,
            dt(canceled_at), dt(access_until), gateway, ref, affiliate[0] if affiliate else None))
        for j, d in enumerate(paid):
            payments.append((int(d.timestamp()), sid, gateway, plan.price_cents, plan.currency,
                             "succeeded", f"{plan.name} — {'renewal' if j else 'first payment'}"))
        if failed_at:
            payments.append((int(failed_at.timestamp()) + ri(60, 3 * 3600), sid, gateway,
                             plan.price_cents, plan.currency, "failed", f"{plan.name} — renewal"))
        return len(paid) + (1 if failed_at else 0), int((canceled_at or start).timestamp())
