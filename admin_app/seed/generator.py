"""The state one seed run shares between its builders: random stream, clock, next ids."""
from itertools import accumulate

from admin_app.seed.catalog import PLAN_WEIGHTS, PLANS, price_factor
from admin_app.seed.codes import BASE36, BASE62, RandomSuffixes, encode_id
from admin_app.seed.countries import EU
from admin_app.seed.customers import build_customer
from admin_app.seed.writer import COLUMNS, CUSTOMERS, REFUNDS, SUBSCRIPTIONS, TRANSACTIONS

ID_KINDS = ("customer", "subscription", "transaction", "refund")  # in COLUMNS order


class Generator:
    """Builds the rows of customers lo..hi (batch()); keeps ids and invoice numbers going."""

    def __init__(self, rng, now, store_currency, catalog, start, per_customer, datetime_value):
        # catalog: (plans, affiliates) rows; start: (next id per ID_KINDS, last invoice number)
        self.rng, self.now, self.per_customer = rng, now, per_customer
        self.datetime_value = datetime_value  # timestamp -> the value a datetime column takes
        self.plans, self.affiliates = catalog
        next_ids, self.last_invoice = start
        self.next_id = dict(zip(ID_KINDS, next_ids))
        self.store_currency = store_currency
        self.other_currency = "EUR" if store_currency != "EUR" else "USD"
        # who sometimes pays in the other currency
        self.foreign_countries = EU if self.other_currency == "EUR" else {"US"}
        self.price_factor = {currency: price_factor(currency)
                             for currency in (store_currency, self.other_currency)}
        weights = dict(zip([plan[0] for plan in PLANS], PLAN_WEIGHTS))
        self.plan_weights = list(accumulate(weights.get(plan.name, 10 if plan.active else 2)
                                            for plan in self.plans))
        self.suffixes = RandomSuffixes(rng)
        self.counts = dict.fromkeys(("customers", "transactions", "refunds", "subscriptions"), 0)
        self.rows = {}

    def randint(self, low, high):
        """random.randint(low, high) without its overhead (uniform enough for these spans)."""
        return low + int(self.rng.random() * (high - low + 1))

    def take_id(self, kind):
        """The next id of a customer, subscription, transaction or refund."""
        value = self.next_id[kind]
        self.next_id[kind] = value + 1
        return value

    def base62(self, length):
        return self.suffixes.take(self.suffixes.base62, length)

    def base36(self, length):
        return self.suffixes.take(self.suffixes.base36, length)

    def reference(self, gateway, number, stripe_prefix, salt):
        """Stripe-like 'pi_3…' ids or 17-character PayPal ids, unique through the row id."""
        if gateway == "stripe":
            return stripe_prefix + encode_id(number, 8, BASE62, salt) + self.base62(15)
        return encode_id(number, 8, BASE36, salt) + self.base36(9)

    def batch(self, first, stop, total):
        """{table: rows} of the customers first..stop-1 (of `total`) and all that is theirs."""
        self.rows = {table: [] for table in COLUMNS}
        for index in range(first, stop):
            build_customer(self, index, total)
        for table, key in ((CUSTOMERS, "customers"), (TRANSACTIONS, "transactions"),
                           (REFUNDS, "refunds"), (SUBSCRIPTIONS, "subscriptions")):
            self.counts[key] += len(self.rows[table])
        return self.rows
