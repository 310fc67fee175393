"""Refunds the gateway accepted as pending, finished later with “Check refund”: the sandbox's
Stripe and PayPal make them pending and settle them; money counted there and here."""
from sqlalchemy import func, select

from models import AuditEvent, Refund, db
from tests import factories
from tests.conftest import csrf_token, login
from sandbox import control
from tests.gateway_sandbox import refunded_cents
from tests.integration.test_refund import (_refund, _state, at_stripe, paypal_app,  # noqa: F401
                                           sale, stripe_app)


def _check(client, tx_id):
    token = csrf_token(client, "/admin/transaction/")
    return client.post(f"/admin/transaction/action/check_refund/{tx_id}/?url=/admin/transaction/",
                       data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)


def _offers_check(client):
    return 'data-action="check_refund"' in client.get("/admin/transaction/").get_data(as_text=True)


def _refund_row():
    db.session.expire_all()
    return db.session.scalar(select(Refund))


def _audit_outcomes():
    return db.session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "refund")
                              .order_by(AuditEvent.id)).all()


def _pending_stripe_refund(client, sale, sandbox):  # noqa: F811
    control.refund_status(sandbox.sandbox, "stripe", "pending")
    login(client, "finance")
    page = _refund(client, sale[0], "50.00").get_data(as_text=True)
    assert "Stripe accepted the refund of $50.00; it is pending there." in page
    refund = _refund_row()
    assert refund.status == "pending" and refund.gateway_ref.startswith("re_")
    assert _state(*sale) == (0, 500, 7500)  # nothing applied yet
    assert _offers_check(client)
    modal = client.get(f"/admin/transaction/action/check_refund/{sale[0]}/?modal=1"
                       ).get_data(as_text=True)
    assert refund.gateway_ref in modal and "accepted the refund as pending" in modal
    return refund


def test_stripe_pending_refund_is_applied_once_when_it_succeeds(stripe_app, client, sale,  # noqa: F811
                                                                 sandbox, stripe_sb):
    refund = _pending_stripe_refund(client, sale, sandbox)
    page = _check(client, sale[0])
    assert "still pending at Stripe" in page and _state(*sale) == (0, 500, 7500)

    assert at_stripe(sandbox, sale[0]) == 0  # pending there too
    control.settle_refund(sandbox.sandbox, refund.gateway_ref, "succeeded")
    page = _check(client, sale[0])

    assert "Refunded $50.00 through Stripe." in page
    assert stripe_sb.calls[-1].path == f"/v1/refunds/{refund.gateway_ref}"
    assert len([c for c in stripe_sb.calls if c.path == "/v1/refunds"]) == 1  # never resent
    assert _refund_row().status == "succeeded" and _refund_row().completed_at is not None
    assert _state(*sale) == (5000, 0, 2500) and at_stripe(sandbox, sale[0]) == 5000
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "refund")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.outcome == "succeeded" and event.gateway_ref == refund.gateway_ref
    assert (event.before["lifetime_value_cents"], event.after["lifetime_value_cents"]) == (7500, 2500)
    assert not _offers_check(client)

    calls = len(stripe_sb.calls)
    page = _check(client, sale[0])  # a second check (stale tab) changes nothing
    assert "No refund of this payment is pending." in page
    assert len(stripe_sb.calls) == calls and _state(*sale) == (5000, 0, 2500)
    assert at_stripe(sandbox, sale[0]) == 5000
    assert _audit_outcomes() == ["pending", "pending", "succeeded"]


def test_stripe_pending_refund_that_fails_changes_nothing_else(stripe_app, client, sale,  # noqa: F811
                                                               sandbox):
    refund = _pending_stripe_refund(client, sale, sandbox)
    control.settle_refund(sandbox.sandbox, refund.gateway_ref, "failed",
                          "expired_or_canceled_card")

    page = _check(client, sale[0])

    assert "Stripe could not complete the refund (expired or canceled card)." in page
    refund = _refund_row()
    assert refund.status == "failed" and "expired or canceled card" in refund.failure_message
    assert _state(*sale) == (0, 500, 7500) and at_stripe(sandbox, sale[0]) == 0
    assert _audit_outcomes() == ["pending", "failed"]
    assert not _offers_check(client)


def test_failed_status_lookup_leaves_the_refund_pending(stripe_app, client, sale,  # noqa: F811
                                                        sandbox):
    refund = _pending_stripe_refund(client, sale, sandbox)
    with sandbox.sandbox.lock:  # Stripe no longer finds it
        sandbox.sandbox.stripe.refunds.pop(refund.gateway_ref)

    page = _check(client, sale[0])

    assert f"Stripe has no refund {refund.gateway_ref}." in page and "stays pending" in page
    assert _refund_row().status == "pending" and _state(*sale) == (0, 500, 7500)


def test_paypal_pending_refund_is_applied_when_completed(app, client, sandbox, paypal_sb):
    paypal_app(app, sandbox)
    control.refund_status(sandbox.sandbox, "paypal", "PENDING")
    customer = factories.customer()
    factories.payment(customer, 1000)
    tx = factories.payment(customer, 4000, gateway="paypal")  # at PayPal too
    db.session.commit()
    login(client, "finance")
    page = _refund(client, tx.id, "15.00").get_data(as_text=True)
    assert "PayPal accepted the refund of $15.00; it is pending there." in page
    assert _state(tx.id, customer.id) == (0, 0, 5000) and _offers_check(client)

    control.settle_refund(sandbox.sandbox, _refund_row().gateway_ref, "COMPLETED")
    page = _check(client, tx.id)

    assert "Refunded $15.00 through PayPal." in page
    assert {c.path for c in paypal_sb.calls if c.path.startswith("/v2/payments/refunds/")} == {
        f"/v2/payments/refunds/{_refund_row().gateway_ref}"}
    # never resent (a call repeated after a stale-token 401 carries the same request id)
    assert {c.headers["PayPal-Request-Id"] for c in paypal_sb.calls
            if c.path.endswith("/refund")} == {_refund_row().idempotency_key}
    assert refunded_cents(sandbox, "paypal", tx.gateway_ref) == 1500
    assert _refund_row().status == "succeeded" and _state(tx.id, customer.id) == (1500, 0, 3500)
    assert _audit_outcomes() == ["pending", "succeeded"]
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
