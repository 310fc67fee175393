"""Issue 18: gateway reads happen before any row lock is taken; the lock guards only the
write. A cancellation (and Check Approval) reads the subscription at PayPal first; while that
read is slow, a webhook for the same subscription is applied at once instead of waiting for
it, and the action then re-checks the row under its lock: it goes on with what the webhook
brought, or refuses cleanly when the webhook made it pointless. On SQLite and PostgreSQL."""
import json
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from actions.errors import InvalidRequest
from actions.subscription_approval import check_approval
from actions.subscription_cancel import cancel_subscription
from actions.subscription_price import change_subscription_price
from actions.sync.events import lane_of, process_event, store_event
from models import AdminUser, SubscriptionChange, db
from models.access import access_ends_at
from tests.fakes import paypal_webhooks as pw
from tests.gateway_sandbox import HOLD
from tests.integration.subscription_setup import deps_at, finance, paypal_setup  # noqa: F401

pytestmark = pytest.mark.timeout(90)

RENEWED = datetime(2027, 1, 20, 10, tzinfo=timezone.utc)
#: how long the webhook may take while PayPal's answer is held (it needs no lock held by
#: the action; generous for a loaded machine); the read is held until then (the adapter
#: waits up to 30 s), so a webhook waiting for it would show
WEBHOOK_WITHIN = 20


def _in_thread(app, work):
    """Run work() in its own app context (its own session) on a thread; (thread, outcome)."""
    outcome = {}

    def target():
        with app.app_context():
            try:
                outcome["value"] = work()
            except Exception as exc:  # noqa: BLE001 - the test looks at it
                outcome["value"] = exc
            finally:
                db.session.remove()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def _paypal_event(app, setup, event_type, **resource):
    """Store and apply a PayPal subscription event as the webhook worker does."""
    sub = setup.fake.subscriptions[setup.ref]
    body = dict(pw.subscription(setup.ref, plan_id=sub["plan_id"]), **resource)
    body["update_time"] = pw.now_text()
    event = pw.event(event_type, body)
    row_id, _new = store_event("paypal", event["id"], event_type, datetime.now(timezone.utc),
                               json.dumps(event), lane=lane_of("paypal", event))
    return process_event(deps_at(app), row_id)


def _while_the_read_is_held(app, setup, action, webhook):
    """Start `action` with PayPal's next subscription read held; apply `webhook` meanwhile.
    Returns (whether the webhook finished while the read was still held, its status, the
    action's outcome)."""
    app.config["PAYPAL_TIMEOUT"] = 30  # a slow answer, not a lost one
    setup.fake.read_faults.add(HOLD)
    acting, acted = _in_thread(app, action)
    try:
        assert setup.fake.read_faults.holding.wait(20), "the action never read PayPal"
        hooking, hooked = _in_thread(app, webhook)
        hooking.join(WEBHOOK_WITHIN)
        in_time = not hooking.is_alive()
    finally:
        setup.fake.read_faults.release()
    hooking.join(30)
    acting.join(30)
    assert not acting.is_alive() and not hooking.is_alive()
    db.session.expire_all()
    return in_time, hooked.get("value"), acted.get("value")


def _as(app, admin_id):
    return db.session.get(AdminUser, admin_id)


def _cancel_calls(setup):
    return [call for call, _key in setup.change_calls() if call.path.endswith("/cancel")]


def test_a_renewal_webhook_is_applied_while_the_cancellation_reads_paypal(
        app, paypal_setup, finance):
    """PayPal renews the subscription (next billing moves to 20 Jan) while our cancellation
    waits for PayPal's (slow, now stale) answer: the webhook does not wait, and the
    cancellation, finding the row changed under its lock, reads again and cancels once,
    keeping access to the period just paid for."""
    setup, admin_id = paypal_setup, finance.id

    def renewal():
        sub = setup.fake.subscriptions[setup.ref]
        sub["billing_info"]["next_billing_time"] = "2027-01-20T10:00:00Z"
        return _paypal_event(app, setup, "BILLING.SUBSCRIPTION.UPDATED",
                             billing_info=sub["billing_info"])

    in_time, hooked, result = _while_the_read_is_held(
        app, setup,
        lambda: cancel_subscription(deps_at(app), _as(app, admin_id), setup.sub_id),
        renewal)

    assert in_time, "the webhook waited for the cancellation's PayPal read"
    assert hooked == "processed"
    assert not isinstance(result, Exception), result
    assert result.category == "success", result.message
    sub = setup.sub()
    assert sub.status == "canceled"
    assert access_ends_at(sub) == RENEWED
    assert len(_cancel_calls(setup)) == 1 and setup.effects() == ["cancel"]
    change = db.session.scalar(select(SubscriptionChange))
    assert (change.status, change.params["period_end"]) == ("succeeded", RENEWED.isoformat())


def test_a_cancellation_at_paypal_while_ours_reads_it_is_refused_cleanly(
        app, paypal_setup, finance):
    """The member cancels at PayPal while our cancellation waits for PayPal's answer: the
    webhook is applied at once, and ours, re-checking the row under its lock, says so and
    sends PayPal nothing."""
    setup, admin_id = paypal_setup, finance.id

    def cancelled_by_the_member():
        setup.fake.subscriptions[setup.ref]["status"] = "CANCELLED"
        return _paypal_event(app, setup, "BILLING.SUBSCRIPTION.CANCELLED", status="CANCELLED")

    in_time, hooked, result = _while_the_read_is_held(
        app, setup,
        lambda: cancel_subscription(deps_at(app), _as(app, admin_id), setup.sub_id),
        cancelled_by_the_member)

    assert in_time, "the webhook waited for the cancellation's PayPal read"
    assert hooked == "processed"
    assert isinstance(result, InvalidRequest), result
    assert "already cancelled" in result.message and "nothing was changed" in result.message
    assert _cancel_calls(setup) == [] and setup.effects() == []
    assert db.session.scalar(select(SubscriptionChange)) is None
    assert setup.sub().status == "canceled"


def test_a_webhook_is_applied_while_check_approval_reads_paypal(app, paypal_setup, finance):
    """Check Approval reads PayPal with no lock held: a webhook for the subscription is
    applied meanwhile, and the approval is recorded afterwards."""
    setup, admin_id = paypal_setup, finance.id
    setup.fake.require_approval = True
    change_subscription_price(deps_at(app), finance, setup.sub_id, 4500)
    assert setup.sub().approval_url
    setup.fake.approve(setup.ref)

    def suspended_and_reactivated():
        return _paypal_event(app, setup, "BILLING.SUBSCRIPTION.RE-ACTIVATED")

    in_time, hooked, result = _while_the_read_is_held(
        app, setup, lambda: check_approval(deps_at(app), _as(app, admin_id), setup.sub_id),
        suspended_and_reactivated)

    assert in_time, "the webhook waited for Check Approval's PayPal read"
    assert hooked == "processed"
    assert not isinstance(result, Exception), result
    assert "approved" in result.message
    sub = setup.sub()
    assert (sub.price_cents, sub.approval_url) == (4500, None)
    assert db.session.scalar(select(SubscriptionChange.status)) == "succeeded"

