"""Refund and Check refund: the preconditions, and the money where it lands (the gateway's
ledger and ours: refund rows, payment, lifetime value, commission, audit)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions.bulk.refund_remaining import refund_remaining_row
from actions.commission import commission_reversal
from actions.errors import GatewayDeclined, GatewayNotConfigured, GatewayUnavailable, \
    InvalidRequest
from actions.refund import (check_refund, preview_refund, preview_refund_text,
                            refund_transaction)
from models import Refund, Transaction
from tests import factories
from tests.actions.support import (FAST, audit_entries, fresh, ltv, nothing_changes, paid,
                                   refunds_of, start_over)


@pytest.fixture
def finance(actors):
    return actors["finance"]


def test_a_partial_refund_lands_at_the_gateway_and_in_our_ledger(deps, finance, gateways):
    partner = factories.affiliate()
    tx = paid(gateways, amount_cents=10000, affiliate_id=partner.id, commission_cents=1000)
    before = ltv(tx.customer_id)

    result = refund_transaction(deps, finance, tx.id, 2500, "requested_by_customer",
                                note="asked by mail")

    assert result.message == "Refunded $25.00 through Stripe."
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 2500
    refund, = refunds_of(tx.id)
    assert (refund.status, refund.amount_cents, refund.currency) == ("succeeded", 2500, "USD")
    assert refund.gateway_ref in gateways["stripe"].refunds
    # the idempotency key sent was derived from our refund row
    assert gateways["stripe"].calls[-1] == ("refund", (tx.gateway_ref, 2500, "USD"),
                                            refund.idempotency_key)
    tx = fresh(Transaction, tx.id)
    assert tx.refunded_cents == 2500 and tx.refundable_cents == 7500
    assert ltv(tx.customer_id) == before - 2500
    assert tx.commission_cents == 1000 - 250  # a quarter of the sale: a quarter of it back
    entry = audit_entries("refund")[-1]
    assert entry.outcome == "succeeded" and entry.actor_email == "finance@example.com"
    assert entry.before["lifetime_value_cents"] - entry.after["lifetime_value_cents"] == 2500


def test_a_full_refund_takes_the_whole_settlement_and_commission(deps, finance, gateways):
    partner = factories.affiliate()
    tx = paid(gateways, 4900, currency="EUR", affiliate_id=partner.id, commission_cents=490)
    settled = tx.settlement_cents  # €49.00 settled in USD
    before = ltv(tx.customer_id)
    refund_transaction(deps, finance, tx.id, None, "duplicate")
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 4900
    assert ltv(tx.customer_id) == before - settled
    assert fresh(Transaction, tx.id).commission_cents == 0


@FAST
@given(amounts=st.lists(st.integers(min_value=1, max_value=6000), min_size=1, max_size=6))
def test_successive_refunds_never_exceed_the_payment_and_both_ledgers_agree(
        deps, finance, gateways, amounts):
    """Whatever partial refunds an admin asks for, each is either made exactly (gateway and
    ours) or refused with nothing changed; never more than the payment."""
    partner = factories.affiliate()
    tx = paid(gateways, 10000, affiliate_id=partner.id, commission_cents=1500)
    # plain values: reading an attribute of `tx` after fresh() expired it would load it again
    tx_id, customer_id, ref = tx.id, tx.customer_id, tx.gateway_ref
    start = ltv(customer_id)
    for amount in amounts:
        now = fresh(Transaction, tx_id)
        left, commission, net = now.refundable_cents, now.commission_cents, now.net_cents
        if amount > left:
            at_gateway = gateways["stripe"].refunded_total(ref)
            with pytest.raises(InvalidRequest, match="is left"):
                refund_transaction(deps, finance, tx_id, amount, "other")
            assert gateways["stripe"].refunded_total(ref) == at_gateway
            assert fresh(Transaction, tx_id).refundable_cents == left
            continue
        before = ltv(customer_id)
        refund_transaction(deps, finance, tx_id, amount, "other")
        assert ltv(customer_id) == before - amount
        assert fresh(Transaction, tx_id).commission_cents == commission - commission_reversal(
            commission, net, amount)
    refunded = sum(r.amount_cents for r in refunds_of(tx_id) if r.status == "succeeded")
    end = fresh(Transaction, tx_id)
    assert gateways["stripe"].refunded_total(ref) == refunded == end.refunded_cents <= 10000
    assert ltv(customer_id) == start - refunded
    assert 0 <= end.commission_cents <= 1500


@pytest.mark.parametrize(("setup", "amount", "reason", "message"), [
    (lambda tx: None, 2500, "because", "Choose a reason for the refund."),
    (lambda tx: None, 0, "other", "Enter an amount greater than zero."),
    (lambda tx: None, -100, "other", "Enter an amount greater than zero."),
    (lambda tx: None, 10001, "other", r"Only \$100.00 of this payment is left to refund."),
    (lambda tx: setattr(tx, "status", "failed"), 100, "other",
     "Only a successful payment can be refunded; this one is failed."),
    (lambda tx: setattr(tx, "status", "pending"), 100, "other",
     "Only a successful payment can be refunded; this one is pending."),
    (lambda tx: setattr(tx, "refunded_cents", 10000), 100, "other",
     "Nothing is left to refund on this payment."),
])
def test_a_refused_refund_changes_nothing(deps, finance, gateways, setup, amount, reason,
                                          message):
    tx = paid(gateways, 10000)
    setup(tx)
    from models import db
    db.session.commit()
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        refund_transaction(deps, finance, tx.id, amount, reason)


def test_a_payment_gone_or_a_gateway_not_configured_is_refused(deps, finance, gateways):
    tx = paid(gateways, 10000, gateway="paypal")
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="no longer exists"):
        refund_transaction(deps, finance, tx.id + 1000, 100, "other")
    del gateways["paypal"]
    with nothing_changes(gateways), pytest.raises(GatewayNotConfigured):
        refund_transaction(deps, finance, tx.id, 100, "other")


def test_a_pending_refund_counts_as_spent(deps, finance, gateways):
    tx = paid(gateways, 10000)
    gateways["stripe"].refund_outcome = "pending"
    result = refund_transaction(deps, finance, tx.id, 6000, "other")
    assert result.category == "info" and "pending" in result.message
    assert ltv(tx.customer_id) == 10000  # nothing is taken off until it succeeds
    with nothing_changes(gateways), pytest.raises(
            InvalidRequest, match=r"Only \$40.00 of this payment is left to refund."):
        refund_transaction(deps, finance, tx.id, 5000, "other")


def test_the_same_form_sent_twice_refunds_once(deps, finance, gateways):
    tx = paid(gateways, 10000)
    refund_transaction(deps, finance, tx.id, 3000, "other", request_key="form-7")
    with nothing_changes(gateways):
        again = refund_transaction(deps, finance, tx.id, 3000, "other", request_key="form-7")
    assert again.category == "info" and "already submitted" in again.message
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 3000
    assert len(refunds_of(tx.id)) == 1 and ltv(tx.customer_id) == 7000


def test_a_declined_refund_is_recorded_as_failed_and_moves_no_money(deps, finance, gateways):
    tx = paid(gateways, 10000)
    gateways["stripe"].fail_next("decline")
    with pytest.raises(GatewayDeclined):
        refund_transaction(deps, finance, tx.id, 3000, "other")
    refund, = refunds_of(tx.id)
    assert refund.status == "failed" and "declined" in refund.failure_message
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 0
    assert ltv(tx.customer_id) == 10000 and fresh(Transaction, tx.id).refundable_cents == 10000
    assert audit_entries("refund")[-1].outcome == "failed"


@pytest.mark.parametrize("fault", ["timeout", "reset_after_success", "5xx", "429"])
def test_a_lost_answer_stays_pending_and_check_refund_finishes_it_once(deps, finance,
                                                                       gateways, fault):
    tx = paid(gateways, 10000)
    gateways["stripe"].fail_next(fault)
    with pytest.raises(GatewayUnavailable) as lost:
        refund_transaction(deps, finance, tx.id, 3000, "other")
    assert "stays pending until “Check refund” finishes it" in lost.value.message
    refund, = refunds_of(tx.id)
    assert refund.status == "pending" and ltv(tx.customer_id) == 10000
    assert fresh(Transaction, tx.id).refundable_cents == 7000  # pending counts as spent

    result = check_refund(deps, finance, refund.id)

    assert result.category == "success"
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 3000  # never twice
    keys = {key for verb, _request, key in gateways["stripe"].calls if verb == "refund"}
    assert keys == {refund.idempotency_key}
    assert fresh(Refund, refund.id).status == "succeeded" and ltv(tx.customer_id) == 7000
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="not waiting"):
        check_refund(deps, finance, refund.id)


def test_check_refund_asks_where_a_pending_refund_stands(deps, finance, gateways):
    tx = paid(gateways, 10000)
    gateways["stripe"].refund_outcome = "pending"
    refund_transaction(deps, finance, tx.id, 4000, "other")
    refund, = refunds_of(tx.id)
    still = check_refund(deps, finance, refund.id)
    assert still.category == "info" and "still pending" in still.message
    gateways["stripe"].refunds[refund.gateway_ref] = type(
        gateways["stripe"].refunds[refund.gateway_ref])(refund.gateway_ref, "succeeded")
    check_refund(deps, finance, refund.id)
    assert fresh(Refund, refund.id).status == "succeeded" and ltv(tx.customer_id) == 6000


def test_the_bulk_row_refunds_what_is_left_once_per_job_row(deps, finance, gateways):
    tx = paid(gateways, 10000)
    refund_transaction(deps, finance, tx.id, 2500, "other")
    first = refund_remaining_row(deps, finance, tx.id, {"reason": "duplicate"}, "job:3:row:9")
    again = refund_remaining_row(deps, finance, tx.id, {"reason": "duplicate"}, "job:3:row:9")
    assert first.state == again.state == "done"
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 10000
    assert len(refunds_of(tx.id)) == 2 and ltv(tx.customer_id) == 0


def test_the_bulk_row_of_an_interrupted_job_finishes_with_the_same_key(deps, finance,
                                                                     gateways):
    tx = paid(gateways, 10000)
    gateways["stripe"].fail_next("reset_after_success")
    with pytest.raises(GatewayUnavailable):
        refund_remaining_row(deps, finance, tx.id, {}, "job:4:row:1")
    resumed = refund_remaining_row(deps, finance, tx.id, {}, "job:4:row:1")
    assert resumed.state == "done"
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 10000
    assert len(refunds_of(tx.id)) == 1 and ltv(tx.customer_id) == 0


def test_the_bulk_row_of_a_fully_refunded_payment_is_refused(deps, finance, gateways):
    tx = paid(gateways, 10000)
    refund_transaction(deps, finance, tx.id, None, "other")
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="Nothing is left"):
        refund_remaining_row(deps, finance, tx.id, {}, "job:5:row:1")


@FAST
@given(currency=st.sampled_from(["USD", "EUR", "GBP"]),
       amount=st.integers(min_value=100, max_value=50000),
       earlier=st.integers(min_value=0, max_value=100), share=st.integers(1, 100),
       rate_bp=st.sampled_from([0, 1000, 1500]))
def test_the_refund_recorded_is_the_change_its_preview_showed(deps, finance, gateways, currency,
                                                              amount, earlier, share, rate_bp):
    """The pop-up's preview of an amount (issue 21 item 11) and the refund made of it move
    the lifetime value and the commission by the same cents, in any currency, after an
    earlier partial refund, for a part or all of what is left."""
    start_over()
    partner = factories.affiliate(rate_bp=rate_bp)
    tx = paid(gateways, amount, currency=currency, affiliate_id=partner.id,
              commission_cents=amount * rate_bp // 10000)
    first = amount * earlier // 200  # up to half refunded before
    if first:
        refund_transaction(deps, finance, tx.id, first, "other")
    tx = fresh(Transaction, tx.id)
    left = tx.refundable_cents
    cents = max(1, left * share // 100)
    typed = f"{cents // 100}.{cents % 100:02d}"
    heading, lines = preview_refund_text(deps, finance, tx.id, typed)
    preview = preview_refund(deps, tx, cents)
    before_ltv, before_commission = ltv(tx.customer_id), tx.commission_cents

    refund_transaction(deps, finance, tx.id, cents, "other")

    tx = fresh(Transaction, tx.id)
    assert preview.ltv_before_cents == before_ltv
    assert ltv(tx.customer_id) == preview.ltv_after_cents
    assert before_commission - tx.commission_cents == preview.commission_reversed_cents
    assert heading == (f"Refunding the full {deps.money(cents, currency)}:" if cents == left
                       else f"Refunding {deps.money(cents, currency)}:")
    assert (f"the customer's lifetime value {deps.money(before_ltv)} → "
            f"{deps.money(ltv(tx.customer_id))}") in lines[0]


def test_a_preview_of_an_amount_the_refund_refuses_gives_the_refusals_message(deps, finance,
                                                                              gateways):
    tx = paid(gateways, 14900)
    for typed, cents in (("150.00", 15000), ("0", 0)):
        with pytest.raises(InvalidRequest) as refused:
            refund_transaction(deps, finance, tx.id, cents, "other")
        with pytest.raises(InvalidRequest) as previewed:
            preview_refund_text(deps, finance, tx.id, typed)
        assert previewed.value.message == refused.value.message
    with pytest.raises(InvalidRequest, match="“12,x” is not an amount."):
        preview_refund_text(deps, finance, tx.id, "12,x")
    with pytest.raises(InvalidRequest, match="USD amounts have at most 2 decimal places."):
        preview_refund_text(deps, finance, tx.id, "1.005")
    assert gateways["stripe"].refunded_total(tx.gateway_ref) == 0
