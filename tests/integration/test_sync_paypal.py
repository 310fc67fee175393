"""`flask sync paypal` against the PayPal fake: the transaction search (paged, in 31-day
windows) names payments, refunds and subscriptions; run twice, interrupted and resumed."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from actions.sync import backfill
from actions.sync.events import reader_for
from actions.sync.sources import PayPalSource
from admin_app.composition import deps_from_app
from models import Customer, Refund, Subscription, SyncState, Transaction, db
from tests.fakes import paypal_webhooks as pw

NOW = datetime.now(timezone.utc)


def _row(tx_id, code, value, currency="USD", ref=None, ref_type=None, days_ago=10,
         email="grace@example.com", payer="QYR5Z8XDVJNXQ", fee="-1.95"):
    when = (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    info = {"transaction_id": tx_id, "transaction_event_code": code,
            "transaction_initiation_date": when, "transaction_updated_date": when,
            "transaction_amount": pw.money(value, currency),
            "fee_amount": pw.money(fee, currency), "transaction_status": "S"}
    if ref:
        info.update(paypal_reference_id=ref, paypal_reference_id_type=ref_type)
    return {"transaction_info": info,
            "payer_info": {"account_id": payer, "email_address": email, "country_code": "US",
                           "payer_name": {"given_name": "Grace", "surname": "Hopper"}}}


@pytest.fixture
def pp_sync(app, paypal_hooks):
    app.config.update(SYNC_RATE_LIMIT=1000, **paypal_hooks.config())
    paypal_hooks.objects["/v1/billing/subscriptions/I-SYNC1"] = pw.subscription("I-SYNC1")
    paypal_hooks.objects["/v1/billing/plans/P-PRO"] = pw.plan("P-PRO", "19.00")
    paypal_hooks.objects["/v2/payments/captures/EURCAP1"] = pw.capture(
        "EURCAP1", "49.00", breakdown=pw.converted())
    paypal_hooks.transactions.extend([
        _row("CAP100", "T0006", "120.00", days_ago=80),
        _row("EURCAP1", "T0006", "49.00", "EUR", days_ago=70, email="eu@example.com",
             payer="EUPAYER1", fee="-2.05"),
        _row("SALE1", "T0002", "19.00", ref="I-SYNC1", ref_type="SUB", days_ago=40),
        _row("FEE1", "T0400", "-5.00", days_ago=35),  # a withdrawal: not a sale
        _row("REF1", "T1107", "-20.00", ref="CAP100", ref_type="TXN", days_ago=5, fee="0.00"),
    ])
    return app


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _sync(app, *args):
    since = (NOW - timedelta(days=100)).strftime("%Y-%m-%d")
    return app.test_cli_runner().invoke(args=["sync", "paypal", "--quiet", "--since", since,
                                              *args])


def test_paypal_sync_imports_then_changes_nothing(pp_sync):
    first = _sync(pp_sync)
    assert first.exit_code == 0, first.output
    assert "Created 4, updated 0, unchanged 1, errors 0." in first.output, first.output
    assert "every customer's lifetime value adds up" in first.output
    db.session.expire_all()
    assert (_count(Customer), _count(Transaction), _count(Refund), _count(Subscription)) == \
        (2, 3, 1, 1)
    grace = db.session.scalar(select(Customer).where(Customer.email == "grace@example.com"))
    assert grace.lifetime_value_cents == 12000 - 2000 + 1900
    eu = db.session.scalar(select(Customer).where(Customer.email == "eu@example.com"))
    assert eu.lifetime_value_cents == 5260  # €49.00 at what PayPal paid out in USD
    sale = db.session.scalar(select(Transaction).where(Transaction.gateway_ref == "SALE1"))
    assert sale.subscription.gateway_id == "I-SYNC1" and sale.fee_cents == 195
    second = _sync(pp_sync)
    assert "Created 0, updated 0, unchanged 5, errors 0." in second.output, second.output


def test_paypal_sync_resumes_after_an_interruption(pp_sync):
    deps = deps_from_app(pp_sync)
    source = PayPalSource(deps, reader_for("paypal", deps), NOW - timedelta(days=100))
    calls = []

    def crash_in_second_window(n):  # after its page was applied, before its commit
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        backfill.run(source, progress=crash_in_second_window)
    db.session.rollback()
    done = _count(Transaction)
    cursor = db.session.scalar(select(SyncState.result).where(SyncState.gateway == "paypal"))
    assert cursor["kind"] == "transactions" and done == 2  # the first 31-day window only
    resumed = _sync(pp_sync)  # from the stored cursor: the second window on
    assert "Created 2, updated 0, unchanged 1, errors 0." in resumed.output, resumed.output
    db.session.expire_all()
    assert (_count(Transaction), _count(Refund)) == (3, 1)
    assert "Created 0, updated 0," in _sync(pp_sync).output


def _searches(paypal_hooks):
    with paypal_hooks.sb.lock:
        return sum(1 for c in paypal_hooks.sb.calls if c.vendor == "paypal" and
                   c.path == "/v1/reporting/transactions")


def test_a_full_sync_does_not_search_again_the_windows_it_found_empty(pp_sync, paypal_hooks):
    """The first full run searches PayPal's three years (36 windows of 31 days); it found
    nothing before the first transaction (80 days ago), so the next full run, and a dry run,
    start there (3 windows). What they cover is the same: a payment of ours from before that
    transaction, which PayPal does not have, is still reported missing at the gateway."""
    def full(*args):
        return pp_sync.test_cli_runner().invoke(args=["sync", "paypal", "--quiet", *args])
    first = full()
    assert "Created 4, updated 0, unchanged 1, errors 0." in first.output, first.output
    searched = _searches(paypal_hooks)
    assert searched >= 36
    second = full()
    assert "Created 0, updated 0, unchanged 5, errors 0." in second.output, second.output
    assert _searches(paypal_hooks) - searched == 3
    from tests import factories
    grace = db.session.scalar(select(Customer).where(Customer.email == "grace@example.com"))
    factories.payment(grace, 4200, gateway="paypal", gateway_ref="OLDCAP", invoice_number=9001,
                      created_at=NOW - timedelta(days=200))
    db.session.commit()
    searched = _searches(paypal_hooks)
    deps = deps_from_app(pp_sync)
    summary = backfill.run(PayPalSource(deps, reader_for("paypal", deps), None), dry_run=True)
    assert _searches(paypal_hooks) - searched == 3
    assert [d["object"] for d in summary.drift] == ["payment OLDCAP"]
    # another PayPal account: nothing is known about its search
    pp_sync.config["PAYPAL_CLIENT_ID"] = "another-client"
    deps = deps_from_app(pp_sync)
    assert PayPalSource(deps, reader_for("paypal", deps), None).search_from < \
        NOW - timedelta(days=3 * 365 - 1)
