"""The panel's own adapters against the sandbox: what they do lands in the sandbox's ledger,
repeated keys do it once, refusals change nothing, the clock renews and ends subscriptions."""
import re
import time

import pytest

from actions.errors import GatewayDeclined, GatewayUnavailable
from sandbox.ids import PAYER_ID_PATTERN
from tests.sandbox.conftest import DAY


def test_a_stripe_refund_lands_once_in_the_ledger_and_keeps_our_note(sb, gateways, accounts):
    pi = accounts["charge"]["payment_intent"]
    first = gateways["stripe"].refund(pi, 1500, "USD", reason="requested_by_customer",
                                      note="late delivery", idempotency_key="refund-1-a")
    again = gateways["stripe"].refund(pi, 1500, "USD", reason="requested_by_customer",
                                      note="late delivery", idempotency_key="refund-1-a")
    assert first.reference == again.reference and first.status == "succeeded"
    assert accounts["charge"]["amount_refunded"] == 1500
    # our id travels with the refund and comes back as Stripe stores it
    assert sb.stripe.refunds[first.reference]["metadata"] == {
        "memberdesk_key": "refund-1-a", "note": "late delivery"}
    assert first.raw["metadata"]["memberdesk_key"] == "refund-1-a"
    with pytest.raises(GatewayDeclined, match="greater than unrefunded"):
        gateways["stripe"].refund(pi, 3401, "USD", reason="other", note=None,
                                  idempotency_key="refund-1-b")
    assert accounts["charge"]["amount_refunded"] == 1500
    assert gateways["stripe"].refund_status(first.reference).status == "succeeded"


def test_a_paypal_refund_lands_once_and_an_over_refund_is_refused(sb, gateways, accounts):
    capture = accounts["capture"]["id"]
    first = gateways["paypal"].refund(capture, 2000, "USD", reason="other", note="sorry",
                                      idempotency_key="pp-refund-1")
    again = gateways["paypal"].refund(capture, 2000, "USD", reason="other", note="sorry",
                                      idempotency_key="pp-refund-1")
    assert first.reference == again.reference
    assert sb.paypal.refunded(capture) == 2000
    stored = sb.paypal.refunds[first.reference]
    assert stored["custom_id"] == stored["invoice_id"] == "pp-refund-1"
    with pytest.raises(GatewayDeclined):
        gateways["paypal"].refund(capture, 3001, "USD", reason="other", note=None,
                                  idempotency_key="pp-refund-2")
    assert sb.paypal.refunded(capture) == 2000
    assert sb.paypal.captures[capture]["status"] == "PARTIALLY_REFUNDED"


def test_stripe_subscription_verbs_change_the_sandbox(sb, gateways, accounts):
    stripe, ref = gateways["stripe"], accounts["sub"]["id"]
    preview = stripe.preview_change(ref, amount_cents=9900, currency="USD", interval="month",
                                    interval_count=1, proration="create_prorations")
    assert 0 < preview.proration_cents < 5000 and preview.next_invoice_cents > 9900
    result = stripe.change_price(ref, 9900, "USD", "month", 1, proration="none",
                                 idempotency_key="price-1")
    assert result.state.amount_cents == 9900
    assert sb.stripe.subscriptions[ref]["items"]["data"][0]["price"]["unit_amount"] == 9900
    stripe.pause(ref, None, idempotency_key="pause-1")
    assert sb.stripe.subscriptions[ref]["pause_collection"]["behavior"] == "void"
    stripe.resume(ref, idempotency_key="resume-1")
    assert sb.stripe.subscriptions[ref]["pause_collection"] is None
    state = stripe.cancel(ref, at_period_end=True, idempotency_key="cancel-1").state
    assert state.cancel_at_period_end and state.status == "active"
    assert stripe.undo_cancel(ref, idempotency_key="undo-1").state.cancel_at_period_end is False
    assert stripe.cancel(ref, at_period_end=False, idempotency_key="cancel-2").state.status \
        == "canceled"
    assert stripe.cancel(ref, at_period_end=False, idempotency_key="cancel-3").status == \
        "already_canceled"


def test_paypal_subscription_verbs_change_the_sandbox(sb, gateways, accounts):
    paypal, ref = gateways["paypal"], accounts["psub"]["id"]
    paypal.change_price(ref, 2900, "USD", "month", 1, proration="none",
                        idempotency_key="pp-price-1")
    assert sb.paypal.price_of(sb.paypal.subscriptions[ref]) == (2900, "USD")
    paypal.pause(ref, None, idempotency_key="pp-pause")
    assert paypal.get_subscription(ref).paused
    paypal.resume(ref, idempotency_key="pp-resume")
    result = paypal.cancel(ref, at_period_end=True, idempotency_key="pp-cancel")
    assert result.status == "succeeded" and result.state.period_end is not None
    assert sb.paypal.subscriptions[ref]["status"] == "CANCELLED"
    assert paypal.cancel(ref, at_period_end=True, idempotency_key="pp-cancel-2").status == \
        "already_canceled"


def test_the_clock_renews_charges_and_ends_at_period_end(sb, gateways, accounts):
    stripe_sub, paypal_sub = accounts["sub"]["id"], accounts["psub"]["id"]
    gateways["stripe"].cancel(stripe_sub, at_period_end=True, idempotency_key="c-1")
    charges_before, sales_before = len(sb.stripe.charges), len(sb.paypal.sales)
    happened = sb.advance(11 * DAY)
    assert sb.stripe.subscriptions[stripe_sub]["status"] == "canceled"
    assert len(sb.stripe.charges) == charges_before  # a cancelled period is not charged
    assert len(sb.paypal.sales) == sales_before + 1  # PayPal renewed on the 10th
    sale = next(iter(sb.paypal.sales.values()))
    assert sale["billing_agreement_id"] == paypal_sub and sale["amount"]["total"] == "19.00"
    assert any("cancelled at the end" in line for line in happened)
    types = [e["type"] for e in sb.stripe.events] + [e["event_type"] for e in sb.paypal.events]
    assert "customer.subscription.deleted" in types and "PAYMENT.SALE.COMPLETED" in types


def test_a_declined_renewal_makes_the_subscription_past_due(sb, accounts):
    ref = accounts["sub"]["id"]
    sb.stripe.decline_next.add(ref)
    sb.paypal.decline_next.add(accounts["psub"]["id"])
    sb.advance(10 * DAY + 60)
    assert sb.stripe.subscriptions[ref]["status"] == "past_due"
    failed = [c for c in sb.stripe.charges.values() if c["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["amount"] == 4900
    assert sb.paypal.subscriptions[accounts["psub"]["id"]]["billing_info"][
        "failed_payments_count"] == 1


def test_a_dispute_opens_and_is_decided(sb, accounts):
    dispute = sb.stripe.open_dispute(accounts["charge"]["id"])
    assert dispute["status"] == "needs_response" and accounts["charge"]["disputed"]
    assert sb.stripe.decide_dispute(dispute["id"], won=False)["status"] == "lost"
    pp = sb.paypal.open_dispute(accounts["capture"]["id"])
    assert re.match(r"^PP-D-\d+$", pp["dispute_id"])
    assert sb.paypal.decide_dispute(pp["dispute_id"], won=True)["status"] == "RESOLVED"


@pytest.mark.parametrize("fault", [500, 429])
def test_an_error_fault_changes_nothing(sb, gateways, accounts, fault):
    sb.add_fault("stripe", fault)
    with pytest.raises((GatewayUnavailable, GatewayDeclined)):
        gateways["stripe"].refund(accounts["charge"]["payment_intent"], 100, "USD",
                                  reason="other", note=None, idempotency_key=f"f-{fault}")
    assert accounts["charge"]["amount_refunded"] == 0


def test_a_reset_after_success_is_finished_by_the_same_key(sb, gateways, accounts):
    """The connection drops after the refund was made: our retry with the same key gets the
    same refund, made once."""
    sb.add_fault("paypal", "reset")
    capture = accounts["capture"]["id"]
    with pytest.raises(GatewayUnavailable, match="cannot tell"):
        gateways["paypal"].refund(capture, 700, "USD", reason="other", note=None,
                                  idempotency_key="lost-1")
    assert sb.paypal.refunded(capture) == 700
    done = gateways["paypal"].refund(capture, 700, "USD", reason="other", note=None,
                                     idempotency_key="lost-1")
    assert done.status == "succeeded" and sb.paypal.refunded(capture) == 700


def test_paypal_ids_follow_the_published_formats(sb, accounts):
    for _ in range(50):
        assert re.match(PAYER_ID_PATTERN, sb.paypal.payer(email="x@example.com",
                                                          name="X Y")["payer_id"])
    assert re.match(r"^[A-Z0-9]{17}$", accounts["capture"]["id"])
    assert re.match(r"^I-[A-Z0-9]{12}$", accounts["psub"]["id"])
    assert re.match(r"^P-[A-Z0-9]{24}$", accounts["plan"]["id"])


def test_a_timeout_after_success_is_instant_and_the_retry_does_it_once(sb, gateways, accounts):
    sb.add_fault("stripe", "timeout")
    pi = accounts["charge"]["payment_intent"]
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="did not answer within 5 s"):
        gateways["stripe"].refund(pi, 800, "USD", reason="other", note=None,
                                  idempotency_key="slow-1")
    assert time.monotonic() - started < 2 and accounts["charge"]["amount_refunded"] == 800
    again = gateways["stripe"].refund(pi, 800, "USD", reason="other", note=None,
                                      idempotency_key="slow-1")
    assert again.status == "succeeded" and accounts["charge"]["amount_refunded"] == 800


def test_a_stripe_price_change_creates_its_price_with_our_key_once(sb, gateways, accounts):
    """Issue 17: the Price a price change needs is created with our key in its metadata and
    a key derived from ours; its answer lost, the retry finds the same Price at Stripe
    instead of creating a second, and the subscription ends up on it."""
    stripe, ref, key = gateways["stripe"], accounts["sub"]["id"], "md-0123456789ab-change-7-c0ffee00"
    before = set(sb.stripe.prices)
    sb.add_fault("stripe", "timeout")  # the Price is made, its answer lost
    with pytest.raises(GatewayUnavailable):
        stripe.change_price(ref, 9900, "USD", "month", 1, proration="none",
                            idempotency_key=key)
    assert sb.stripe.subscriptions[ref]["items"]["data"][0]["price"]["unit_amount"] == 4900

    result = stripe.change_price(ref, 9900, "USD", "month", 1, proration="none",
                                 idempotency_key=key)

    [new] = [sb.stripe.prices[p] for p in set(sb.stripe.prices) - before]
    assert new["metadata"] == {"memberdesk_key": key}
    assert (new["unit_amount"], new["currency"], new["product"]) == \
        (9900, "usd", accounts["price"]["product"])
    assert new["recurring"]["interval"] == "month"
    assert sb.stripe.subscriptions[ref]["items"]["data"][0]["price"]["id"] == new["id"]
    assert result.state.price_ref == new["id"] and result.state.amount_cents == 9900
