"""admin_app.seed: the invariants of the generated data, on the migrated SQLite and
PostgreSQL test databases."""
from calendar import monthrange
from datetime import datetime, timedelta, timezone
import re

import pytest
from sqlalchemy import func, select, text
from stdnum.eu import vat as eu_vat

from actions import ltv
from actions.commission import commission_base
from admin_app import create_app
from admin_app.seed import seed
from admin_app.seed.countries import EU
from models import Affiliate, Customer, Plan, Refund, Subscription, Transaction, db
from tests.conftest import _config
from tests.db_reset import empty_tables as _empty_tables

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def seeded(database_url, tmp_path_factory):
    """200 seeded customers in the migrated test database, shared by this module's tests."""
    app = create_app(_config(database_url, tmp_path_factory.mktemp("seed")))
    with app.app_context():
        _empty_tables()
        counts = seed(200, 3, random_seed=7, progress=False, batch_size=64, now=NOW)
    yield app, counts
    with app.app_context():
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(seeded):
    app, counts = seeded
    with app.app_context():
        yield counts


def rows(*columns, where=None):
    query = select(*columns)
    if where is not None:
        query = query.where(where)
    return db.session.execute(query).all()


def test_counts_are_returned_and_near_the_request(ctx):
    for model, key in ((Customer, "customers"), (Transaction, "transactions"),
                       (Refund, "refunds"), (Subscription, "subscriptions")):
        assert db.session.scalar(select(func.count()).select_from(model)) == ctx[key]
    assert ctx["customers"] == 200
    assert 480 <= ctx["transactions"] <= 720
    assert 40 <= ctx["subscriptions"] <= 110
    assert ctx["refunds"] > 0
    assert db.session.scalar(select(func.count()).select_from(Plan)) in range(4, 7)
    assert 10 <= db.session.scalar(select(func.count()).select_from(Affiliate)) <= 20


def test_stored_lifetime_value_equals_recomputation_in_sql(ctx):
    assert ltv.find_drift("USD") == []  # the one rule: settlement amounts in the store currency
    # The rule is exercised: foreign-currency, failed and refunded payments all exist, and
    # foreign ones count at a plausible settlement in USD (EUR at 1.08 +- 2 %).
    assert rows(Transaction.id, where=Transaction.status == "failed")
    assert rows(Transaction.id, where=Transaction.refunded_cents > 0)
    foreign = rows(Transaction.amount_cents, Transaction.settlement_cents,
                   Transaction.settlement_currency, where=Transaction.currency == "EUR")
    assert foreign and all(c == "USD" and 1.05 < s / a < 1.11 for a, s, c in foreign)


def test_refunded_cents_equal_succeeded_refunds(ctx):
    done = (select(Refund.transaction_id, func.sum(Refund.amount_cents).label("v"))
            .where(Refund.status == "succeeded").group_by(Refund.transaction_id).subquery())
    drift = db.session.execute(
        select(Transaction.id).outerjoin(done, done.c.transaction_id == Transaction.id)
        .where(Transaction.refunded_cents != func.coalesce(done.c.v, 0))).all()
    assert drift == []
    assert not rows(Transaction.id, where=Transaction.refunded_cents > Transaction.amount_cents)
    txs = {t.id: t for t in db.session.scalars(select(Transaction))}
    spent = {}
    for refund in db.session.scalars(select(Refund)):
        tx = txs[refund.transaction_id]
        assert tx.status == "succeeded" and refund.currency == tx.currency
        assert refund.customer_id == tx.customer_id  # the customer's timeline finds it
        assert refund.amount_cents > 0 and tx.created_at <= refund.created_at <= NOW
        assert (refund.completed_at is None) == (refund.status == "pending")
        if refund.status != "failed":
            spent[tx.id] = spent.get(tx.id, 0) + refund.amount_cents
    assert all(total <= txs[tx_id].amount_cents for tx_id, total in spent.items())
    statuses = {r.status for r in db.session.scalars(select(Refund))}
    assert "succeeded" in statuses


def test_commission_is_rate_times_base_less_proportional_reversal(ctx):
    rates = dict(rows(Affiliate.id, Affiliate.commission_rate_bp))
    with_affiliate = 0
    for tx in db.session.scalars(select(Transaction)):
        assert tx.commission_cents >= 0
        if tx.affiliate_id is None or tx.status != "succeeded":
            assert tx.commission_cents == 0
            continue
        with_affiliate += 1
        base = commission_base(tx.amount_cents, tx.tax_cents)  # without tax (finding 10)
        full = (base * rates[tx.affiliate_id] + 5000) // 10000
        reversal = (2 * full * tx.refunded_cents + tx.amount_cents) // (2 * tx.amount_cents)
        assert tx.commission_cents == full - reversal
    assert with_affiliate > 0


def test_emails_are_lower_case_and_unique_case_insensitively(ctx):
    emails = [e for (e,) in rows(Customer.email)]
    assert all(e == e.lower() and re.fullmatch(r"[a-z0-9._-]+@[a-z.]*example\.(com|org|net)", e)
               for e in emails)
    assert db.session.scalar(select(func.count(func.distinct(func.lower(Customer.email))))) \
        == len(emails)
    names = [n for (n,) in rows(Customer.name)]
    assert any(not n.isascii() for n in names) and any("'" in n for n in names)


def test_invoice_numbers_are_sequential_over_succeeded_payments(ctx):
    numbers = sorted(n for (n,) in rows(Transaction.invoice_number,
                                        where=Transaction.status == "succeeded"))
    assert numbers == list(range(1, len(numbers) + 1))
    assert not rows(Transaction.id, where=(Transaction.status != "succeeded")
                    & Transaction.invoice_number.isnot(None))


def test_companies_have_valid_eu_vat_numbers(ctx):
    customers = db.session.scalars(select(Customer)).all()
    companies = [c for c in customers if c.company]
    assert 0.25 <= len(companies) / len(customers) <= 0.55
    for c in customers:
        if c.vat_number:
            assert c.company and c.country in EU and c.vat_number[:2] == c.country
            assert eu_vat.is_valid(c.vat_number), c.vat_number
        else:
            assert not (c.company and c.country in EU)
        if c.company:
            assert c.company_id and c.company_email
        assert re.fullmatch(r"[A-Z]{2}", c.country) and c.phone and c.address and c.postal_code
    assert sum(1 for c in customers if c.vat_number) >= 10


def test_datetimes_are_aware_and_in_order(ctx):
    customers = db.session.scalars(select(Customer).order_by(Customer.id)).all()
    created = [c.created_at for c in customers]
    assert all(d.tzinfo is not None for d in created) and created == sorted(created)
    assert NOW - timedelta(days=3 * 365 + 1) <= created[0] and created[-1] < NOW
    signed_up = {c.id: c.created_at for c in customers}
    for tx in db.session.scalars(select(Transaction)):
        assert tx.created_at.tzinfo is not None
        assert signed_up[tx.customer_id] < tx.created_at <= NOW
    for sub in db.session.scalars(select(Subscription)):
        assert all(d is None or d.tzinfo is not None for d in (
            sub.start_date, sub.next_payment_date, sub.current_period_end, sub.canceled_at,
            sub.access_until))
    # Stored exactly as the ORM stores them, so comparisons in SQL agree with Python.
    cutoff = NOW - timedelta(days=200)
    in_python = sum(1 for (d,) in rows(Transaction.created_at) if d >= cutoff)
    assert db.session.scalar(select(func.count()).where(Transaction.created_at >= cutoff)) \
        == in_python
    if db.engine.dialect.name == "sqlite":
        raw = db.session.execute(db.text("SELECT created_at FROM customer LIMIT 5")).scalars()
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", v) for v in raw)


def test_subscriptions_are_coherent(ctx):
    plans = {p.id: p for p in db.session.scalars(select(Plan))}
    payments = {}
    for tx in db.session.scalars(select(Transaction).where(
            Transaction.subscription_id.isnot(None))):
        payments.setdefault(tx.subscription_id, []).append(tx)
    statuses = set()
    for sub in db.session.scalars(select(Subscription)):
        statuses.add(sub.status)
        plan = plans[sub.plan_id]
        assert (sub.name, sub.price_cents, sub.currency, sub.interval, sub.interval_count) == (
            plan.name, plan.price_cents, plan.currency, plan.interval, plan.interval_count)
        assert re.fullmatch(r"sub_\w{24}" if sub.gateway == "stripe" else r"I-[A-Z0-9]{12}",
                            sub.gateway_id)
        mine = payments.get(sub.id, [])
        assert all(t.amount_cents == sub.price_cents and t.gateway == sub.gateway and
                   sub.start_date <= t.created_at for t in mine)
        assert all(t.created_at < sub.current_period_end for t in mine if t.status == "succeeded")
        if sub.status == "trialing":
            assert not mine and sub.start_date <= NOW < sub.current_period_end
            assert sub.next_payment_date == sub.current_period_end
        elif sub.status == "active":
            assert sub.current_period_end > NOW and sub.canceled_at is None and mine
            if sub.cancel_at_period_end and sub.gateway == "stripe":  # Stripe's words
                assert sub.next_payment_date == sub.cancel_at == sub.current_period_end
                assert sub.access_until == sub.current_period_end
            elif sub.cancel_at_period_end:
                assert sub.next_payment_date is None and sub.cancel_at is None
                assert sub.access_until == sub.current_period_end
            else:
                assert sub.next_payment_date == sub.current_period_end
        elif sub.status == "past_due":  # as Stripe holds it: the unpaid period has begun
            assert NOW < sub.current_period_end == sub.next_payment_date
            assert any(t.status == "failed" for t in mine)
        else:
            assert sub.status == "canceled" and sub.next_payment_date is None
            assert sub.start_date <= sub.canceled_at <= NOW
            assert sub.access_until == sub.current_period_end > sub.canceled_at
    assert statuses == {"active", "trialing", "past_due", "canceled"}
    # issue 17 finding 17: members anchored on the 29th-31st, billed on that day or the
    # month's last day
    month_end = [s for s in db.session.scalars(select(Subscription).where(
        Subscription.interval == "month", Subscription.status != "trialing"))
        if s.start_date.day >= 29]
    assert len({s.start_date.day for s in month_end}) == 3
    for sub in month_end:
        end = sub.current_period_end
        assert end.day >= min(sub.start_date.day, monthrange(end.year, end.month)[1])
    ids = rows(Subscription.gateway, Subscription.gateway_id)
    assert len(set(ids)) == len(ids)


def test_gateway_references_look_real_and_are_unique(ctx):
    refs = rows(Transaction.gateway, Transaction.gateway_ref)
    assert len(set(refs)) == len(refs)
    for gateway, ref in refs:
        pattern = r"pi_[A-Za-z0-9]{24}" if gateway == "stripe" else r"[A-Z0-9]{17}"
        assert re.fullmatch(pattern, ref), ref
    share = sum(1 for g, _ in refs if g == "stripe") / len(refs)
    assert 0.55 <= share <= 0.85


def test_postgresql_tables_are_vacuumed_at_the_end(ctx):
    """Right after the seed every page is all-visible (index-only scans work at once)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("VACUUM (ANALYZE) runs on PostgreSQL only")
    pages = db.session.execute(text(
        "SELECT relname, relpages, relallvisible, reltuples FROM pg_class WHERE relname IN "
        "('customer', 'transaction', 'refund', 'subscription', 'plan', 'affiliate')")).all()
    assert len(pages) == 6
    for name, total, visible, tuples in pages:
        assert total > 0 and visible == total and tuples > 0, (name, total, visible, tuples)


def test_same_seed_gives_the_same_data(app):
    def dump(random_seed):
        _empty_tables()
        seed(40, 3, random_seed=random_seed, progress=False, now=NOW)
        return [db.session.execute(select(*m.__table__.columns).order_by(m.id)).all()
                for m in (Customer, Transaction, Refund, Subscription)]

    first, again, other = dump(3), dump(3), dump(4)
    assert first == again
    assert first[0][0] != other[0][0]


def test_adds_to_an_existing_database(app):
    seed(30, 2, progress=False, now=NOW)
    last = db.session.scalar(select(func.max(Transaction.id)))
    seed(20, 2, progress=False, batch_size=7)  # same random seed, real clock
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 50
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 6
    assert db.session.scalar(select(func.min(Transaction.id)).where(
        Transaction.customer_id > 30)) == last + 1
    numbers = sorted(n for (n,) in rows(Transaction.invoice_number,
                                        where=Transaction.invoice_number.isnot(None)))
    assert numbers == list(range(1, len(numbers) + 1))
    # Sequences (PostgreSQL) moved past the explicit ids: the ORM can insert again.
    customer = Customer(name="Ada Lovelace", email="ada@example.com")
    db.session.add(customer)
    db.session.commit()
    assert customer.id == 51
