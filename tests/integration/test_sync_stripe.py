"""`flask sync stripe` against localstripe with data made there: import, idempotent second
run, interrupted and resumed run, and the dry run's drift report."""
import pytest
from sqlalchemy import func, select

from actions.sync import backfill
from actions.sync.events import reader_for
from actions.sync.sources import StripeSource
from models import Customer, Refund, Subscription, SyncState, Transaction, db
from admin_app.composition import deps_from_app
from tests.conftest import login


@pytest.fixture
def ls_app(app, localstripe):
    app.config.update(STRIPE_API_KEY=localstripe.api_key, STRIPE_API_BASE=localstripe.url,
                      STRIPE_MAX_RETRIES=0, SYNC_PAGE_SIZE=2, SYNC_RATE_LIMIT=1000)
    return app


def _account(ls):
    """Three customers at Stripe: a € payment, a $ payment partly refunded, a subscription."""
    ada = ls.post("/v1/customers", email="ada@example.com", name="Ada Lovelace")
    ls.post("/v1/payment_intents", amount=4900, currency="eur", customer=ada["id"],
            payment_method="pm_card_visa", confirm="true")
    bob = ls.post("/v1/customers", email="bob@example.com", name="Bob Babbage")
    charge = ls.post("/v1/charges", amount=12000, currency="usd", customer=bob["id"],
                     source="pm_card_visa")
    ls.post("/v1/refunds", charge=charge["id"], amount=2000)
    cy = ls.post("/v1/customers", email="cy@example.com", name="Cy Hopper")
    pm = ls.post("/v1/payment_methods", type="card", **{
        "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123"})
    ls.post(f"/v1/payment_methods/{pm['id']}/attach", customer=cy["id"])
    ls.post(f"/v1/customers/{cy['id']}", **{"invoice_settings[default_payment_method]": pm["id"]})
    product = ls.post("/v1/products", name="Pro")
    ls.post("/v1/plans", id="plan_pro", amount=1900, currency="usd", interval="month",
            product=product["id"])
    sub = ls.post("/v1/subscriptions", customer=cy["id"], **{"items[0][plan]": "plan_pro"})
    return charge, sub


def _sync(app, *args):
    return app.test_cli_runner().invoke(args=["sync", "stripe", "--quiet", *args])


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_sync_imports_the_account_then_changes_nothing(ls_app, localstripe):
    _account(localstripe)
    first = _sync(ls_app)
    assert first.exit_code == 0, first.output
    # 3 customers, 1 subscription, 3 payments, 1 refund; the subscription's payment (its
    # charge) then linked to it by its paid invoice
    assert "Created 8, updated 1, unchanged 0, errors 0." in first.output
    assert "every customer's lifetime value adds up" in first.output
    db.session.expire_all()
    assert (_count(Customer), _count(Transaction), _count(Refund), _count(Subscription)) == \
        (3, 3, 1, 1)
    bob = db.session.scalar(select(Customer).where(Customer.email == "bob@example.com"))
    assert bob.lifetime_value_cents == 10000  # $120 - $20 refunded
    sub = db.session.scalar(select(Subscription))
    assert (sub.status, sub.price_cents, sub.name) == ("active", 1900, "Pro")
    linked = db.session.scalars(select(Transaction.amount_cents).where(
        Transaction.subscription_id == sub.id)).all()
    assert linked == [1900]
    second = _sync(ls_app)
    assert "Created 0, updated 0," in second.output and "errors 0" in second.output



def test_a_sync_that_changes_nothing_writes_no_lifetime_value_and_reads_no_audit_mark(
        ls_app, localstripe):
    """Profiling the randomized histories (issue 17): a payment applied again unchanged took
    its value off and added it back (two UPDATEs of the customer), and every page of a
    real run read the audit log's highest id, which only a dry run uses."""
    from sqlalchemy import event
    _account(localstripe)
    assert _sync(ls_app).exit_code == 0
    statements = []
    with ls_app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        second = _sync(ls_app)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert "Created 0, updated 0," in second.output and "errors 0" in second.output
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE CUSTOMER")]
    assert not [s for s in statements if "max(audit_event.id)" in s]
    db.session.expire_all()
    bob = db.session.scalar(select(Customer).where(Customer.email == "bob@example.com"))
    assert bob.lifetime_value_cents == 10000

def test_an_interrupted_sync_resumes_from_its_cursor(ls_app, localstripe):
    _account(localstripe)
    deps = deps_from_app(ls_app)
    reader = reader_for("stripe", deps)
    reader.page_size = 2
    seen = []

    def crash_on_second_page(n):
        seen.append(n)
        if len(seen) == 2:  # after the second page, before its commit
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        backfill.run(StripeSource(deps, reader), progress=crash_on_second_page)
    db.session.rollback()  # what a killed process leaves: committed pages only
    assert _count(Customer) == 2  # the first page of customers
    cursor = db.session.scalar(select(SyncState.result).where(SyncState.kind == "run"))
    assert cursor["kind"] == "customers" and cursor["cursor"].startswith("cus_")
    resumed = _sync(ls_app)
    assert "Created 6, updated 1, unchanged 0, errors 0." in resumed.output, resumed.output
    db.session.expire_all()
    assert (_count(Customer), _count(Transaction), _count(Subscription)) == (3, 3, 1)
    assert "Created 0, updated 0," in _sync(ls_app).output


def test_dry_run_reports_drift_changes_nothing_and_shows_on_the_home_page(ls_app, localstripe,
                                                                          client):
    charge, sub = _account(localstripe)
    assert _sync(ls_app).exit_code == 0
    localstripe.post("/v1/refunds", charge=charge["id"], amount=3000)  # made at Stripe
    localstripe._request("DELETE", f"/v1/subscriptions/{sub['id']}")  # canceled there
    db.session.expire_all()
    before = (_count(Refund), db.session.scalar(select(Subscription.status)))
    dry = _sync(ls_app, "--dry-run")
    assert dry.exit_code == 1, dry.output
    assert "Would create 1, would update 1," in dry.output
    assert "Drift: 2 difference(s)." in dry.output
    assert "differs: subscription " in dry.output
    db.session.expire_all()
    assert (_count(Refund), db.session.scalar(select(Subscription.status))) == before
    login(client, "viewer")
    home = client.get("/admin/customer/").get_data(as_text=True)
    # the refund and the subscription, and Bob's lifetime value by Stripe's records
    assert "Stripe differs from Memberdesk in 3 place(s)" in home
    drift = client.get("/admin/drift/").get_data(as_text=True)
    assert "subscription.synced" in drift and "canceled" in drift


def test_dry_run_compares_each_lifetime_value_with_stripes_records(ls_app, localstripe,
                                                                   client):
    """A refund row Stripe never made (counted consistently here, so recompute-ltv sees no
    drift and no object differs) shows as a lifetime value that disagrees with Stripe."""
    _account(localstripe)
    assert _sync(ls_app).exit_code == 0
    clean = _sync(ls_app, "--dry-run")
    assert clean.exit_code == 0, clean.output
    assert "Lifetime value against the gateway's records: every customer agrees." in \
        clean.output
    bob = db.session.scalar(select(Customer).where(Customer.email == "bob@example.com"))
    tx = db.session.scalar(select(Transaction).where(Transaction.customer_id == bob.id))
    db.session.add(Refund(transaction_id=tx.id, amount_cents=2000, currency="USD",
                          status="succeeded", gateway_ref="re_counted_twice",
                          settlement_cents=2000, settlement_currency="USD"))
    tx.refunded_cents += 2000
    bob.lifetime_value_cents -= 2000
    db.session.commit()

    dry = _sync(ls_app, "--dry-run")

    assert dry.exit_code == 1, dry.output
    assert "every customer's lifetime value adds up" in dry.output  # recompute-ltv: 0 drift
    assert "Lifetime value against the gateway's records: 1 customer(s) differ:" in dry.output
    assert "bob@example.com: $80.00 here, $100.00 by the gateway's records" in dry.output
    login(client, "viewer")
    home = client.get("/admin/customer/").get_data(as_text=True)
    assert "Stripe differs from Memberdesk in 1 place(s)" in home
    page = client.get("/admin/drift/").get_data(as_text=True)
    assert "md-ltv-differences-stripe" in page and "bob@example.com" in page
    assert "$80.00" in page and "$100.00" in page


def test_with_redis_the_sync_draws_from_the_shared_gateway_rate_limit(ls_app, localstripe,
                                                                      redis_queue):
    """Issue 18: the sync's requests count against the same Redis bucket as the workers'
    bulk jobs (not a limit of its own process only)."""
    from redis import Redis

    from tests.redis_support import REDIS_URL
    _account(localstripe)
    prefix = f"{redis_queue}:ratelimit"
    ls_app.config.update(REDIS_URL=REDIS_URL, RATE_LIMIT_PREFIX=prefix, STRIPE_RATE_LIMIT=1000.0)
    result = _sync(ls_app)
    assert result.exit_code == 0, result.output
    tokens = Redis.from_url(REDIS_URL).hget(f"{prefix}:stripe", "tokens")
    assert tokens is not None and float(tokens) < 1000  # the shared bucket was drawn from
