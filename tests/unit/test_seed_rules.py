"""Rules of the demo data generator that need no database (admin_app/seed)."""
import random
from datetime import datetime, timezone

from stdnum.eu import vat as eu_vat

from actions.commission import commission_reversal
from admin_app.seed.codes import BASE36, BASE62, encode_id
from admin_app.seed.countries import EU
from admin_app.seed.customers import customer_details
from admin_app.seed.payments import included_tax, sale_commission
from admin_app.seed.timeline import Cycle


def test_commission_is_the_rate_less_the_refunds_reversal_rule():
    # 10.00 sale at 15 %: 1.50; a full refund takes all of it back, a third a third of it.
    assert sale_commission(1000, 1500, 0) == 150
    assert sale_commission(1000, 1500, 1000) == 0
    assert sale_commission(999, 1500, 333) == 150 - commission_reversal(150, 999, 333) == 100
    for amount, rate, refunded in ((1999, 1250, 1), (4900, 3500, 2450), (12900, 750, 12899)):
        full = (amount * rate + 5000) // 10000
        # the seed's former formula, rounded half up: the numbers did not change
        assert sale_commission(amount, rate, refunded) == full - (
            2 * full * refunded + amount) // (2 * amount)


def test_included_tax_rounds_half_up():
    assert included_tax(12000, 2000) == 2000 and included_tax(100, 0) == 0
    assert included_tax(1999, 1900) == 319  # 1999 - 1999 / 1.19 = 319.2


def test_encoded_ids_are_unique_and_fixed_width():
    codes = {encode_id(n, 3, BASE36, 1) for n in range(36 ** 3)}
    assert len(codes) == 36 ** 3 and all(len(c) == 3 for c in codes)
    assert encode_id(42, 8, BASE62, 2) != encode_id(42, 8, BASE62, 3)


def test_monthly_cycles_move_by_whole_months_and_back():
    cycle = Cycle("month", 3)
    start = cycle.anchor(datetime(2024, 1, 31, tzinfo=timezone.utc))
    assert start.day == 31  # anchored on the 31st, as a gateway bills it
    assert [cycle.shift(start, n).day for n in (1, 2, 3, 4)] == [30, 31, 31, 31]
    assert cycle.shift(cycle.shift(start, 5), -5) == start
    monthly = Cycle("month", 1)
    feb = monthly.shift(monthly.anchor(datetime(2025, 1, 30, tzinfo=timezone.utc)), 1)
    assert (feb.day, monthly.shift(feb, 1).day) == (28, 30)  # back to the 30th after February
    assert Cycle("week", 2).shift(start, 1).day == 14


def test_customer_details_are_deterministic_with_valid_vat_numbers():
    def details(random_seed):
        rng = random.Random(random_seed)
        return [customer_details(rng, number) for number in range(300)]

    first = details(5)
    assert first == details(5) and first != details(6)
    companies = [d for d in first if d["vat_number"]]
    assert companies and all(eu_vat.is_valid(d["vat_number"]) and d["country"] in EU
                             for d in companies)
