"""Subscription actions: each refusal changes nothing; each change happens once at the gateway
(with the key of our pending change row) and in our record, and access follows the guide."""
import socket
import subprocess
from datetime import timedelta

import pytest

from actions.bulk.cancel_subscription import cancel_row
from actions.bulk.change_subscription_price import price_row
from actions.bulk.set_subscription_affiliate import affiliate_row
from actions.errors import GatewayDeclined, GatewayUnavailable, InvalidRequest
from actions.subscription_affiliate import set_subscription_affiliate
from actions.subscription_approval import check_approval
from actions.subscription_cancel import cancel_subscription, undo_cancel
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.subscription_plan import change_subscription_plan
from actions.subscription_preview import preview_subscription_change
from actions.subscription_price import change_subscription_price
from models import Subscription, SubscriptionChange, db
from models.access import has_access
from tests import factories
from tests.actions.support import audit_entries, fresh, nothing_changes, other_plan, subscribed

GATEWAYS = ["stripe", "paypal"]


@pytest.fixture
def finance(actors):
    return actors["finance"]


def changes(sub_id):
    return db.session.query(SubscriptionChange).filter_by(subscription_id=sub_id).order_by(
        SubscriptionChange.id).all()


def effects(gateway, verb=None):
    return [e for e in gateway.effects if verb is None or e[0] == verb]


def keyed_by_our_row(gateway, sub_id):
    """Every changing call carried the key of one of our change rows."""
    ours = {c.idempotency_key for c in changes(sub_id)}
    sent = {key for _verb, _ref, key in gateway.effects}
    return sent and sent <= ours


# -- price ---------------------------------------------------------------------------------
@pytest.mark.parametrize("gateway", GATEWAYS)
def test_a_new_price_from_the_next_renewal(deps, finance, gateways, gateway):
    sub = subscribed(gateways, gateway=gateway)
    result = change_subscription_price(deps, finance, sub.id, 5900)
    assert result.message.startswith("The subscription costs $59.00 from the renewal on "
                                     "31 Jan 2026")
    assert gateways[gateway].subscriptions[sub.gateway_id].amount_cents == 5900
    assert fresh(Subscription, sub.id).price_cents == 5900
    change, = changes(sub.id)
    assert change.status == "succeeded" and change.kind == "price"
    assert effects(gateways[gateway]) == [("change_price", sub.gateway_id,
                                           change.idempotency_key)]
    entry = audit_entries("subscription.price")[-1]
    assert entry.outcome == "succeeded"
    assert (entry.before["price_cents"], entry.after["price_cents"]) == (4900, 5900)


def test_a_stripe_price_now_is_prorated_by_stripe(deps, finance, gateways):
    sub = subscribed(gateways)
    result = change_subscription_price(deps, finance, sub.id, 5900, effective="now")
    assert "Stripe charged or credited the difference" in result.message
    proration = [c for c in gateways["stripe"].calls if c[0] == "change_price"][0][1][3]
    assert proration == "always_invoice"


@pytest.mark.parametrize(("gateway", "setup", "kwargs", "message"), [
    ("stripe", {}, {"amount_cents": 4900}, r"already costs \$49.00"),
    ("stripe", {}, {"amount_cents": 0}, "Enter a price greater than zero"),
    ("stripe", {}, {"amount_cents": -5}, "Enter a price greater than zero"),
    ("stripe", {}, {"amount_cents": 5900, "effective": "tomorrow"}, "Choose when"),
    ("paypal", {}, {"amount_cents": 5900, "effective": "now"}, "not now"),
    ("stripe", {"status": "canceled"}, {"amount_cents": 5900}, "is cancelled"),
    ("stripe", {"status": "incomplete"}, {"amount_cents": 5900}, "is incomplete"),
    ("paypal", {"approval_url": "https://paypal.test/a"}, {"amount_cents": 5900},
     "waiting for the customer's approval"),
])
def test_a_refused_price_change_changes_nothing(deps, finance, gateways, gateway, setup,
                                                kwargs, message):
    sub = subscribed(gateways, gateway=gateway, **setup)
    amount = kwargs.pop("amount_cents")
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        change_subscription_price(deps, finance, sub.id, amount, **kwargs)


def test_a_paypal_change_waits_for_the_payer_and_check_approval_records_it(deps, finance,
                                                                         gateways):
    paypal = gateways["paypal"]
    paypal.needs_approval = True
    sub = subscribed(gateways, gateway="paypal")
    waiting = change_subscription_price(deps, finance, sub.id, 5900)
    assert waiting.category == "info" and "https://paypal.test/approve/" in waiting.message
    sub = fresh(Subscription, sub.id)
    assert sub.price_cents == 4900 and sub.approval_url  # not before the payer approves
    assert changes(sub.id)[0].status == "awaiting_approval"

    not_yet = check_approval(deps, finance, sub.id)
    assert not_yet.category == "info" and "not approved the change yet" in not_yet.message
    assert fresh(Subscription, sub.id).price_cents == 4900

    paypal.approve(sub.gateway_id)
    done = check_approval(deps, finance, sub.id)
    assert done.message == ("The customer approved the change: the subscription now costs "
                            "$59.00 per cycle.")
    sub = fresh(Subscription, sub.id)
    assert sub.price_cents == 5900 == paypal.subscriptions[sub.gateway_id].amount_cents
    assert sub.approval_url is None and changes(sub.id)[0].status == "succeeded"
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="No change"):
        check_approval(deps, finance, sub.id)


# -- plan ----------------------------------------------------------------------------------
@pytest.mark.parametrize("gateway", GATEWAYS)
def test_a_plan_change_moves_the_subscription_at_the_gateway_and_here(deps, finance,
                                                                    gateways, gateway):
    sub, plus = subscribed(gateways, gateway=gateway), other_plan(9900)
    change_subscription_plan(deps, finance, sub.id, plus.id)
    held = gateways[gateway].subscriptions[sub.gateway_id]
    assert held.price_ref == (plus.stripe_price_id if gateway == "stripe"
                              else plus.paypal_plan_id)
    sub = fresh(Subscription, sub.id)
    assert (sub.plan_id, sub.name, sub.price_cents) == (plus.id, "Pro Plus", 9900)
    assert keyed_by_our_row(gateways[gateway], sub.id)


def test_a_paypal_plan_change_approved_by_the_payer(deps, finance, gateways):
    gateways["paypal"].needs_approval = True
    sub, plus = subscribed(gateways, gateway="paypal"), other_plan(9900)
    change_subscription_plan(deps, finance, sub.id, plus.id)
    assert fresh(Subscription, sub.id).plan_id != plus.id
    gateways["paypal"].approve(sub.gateway_id)
    check_approval(deps, finance, sub.id)
    assert fresh(Subscription, sub.id).plan_id == plus.id


@pytest.mark.parametrize(("gateway", "plan", "proration", "message"), [
    ("stripe", dict(active=False), "none", "Choose another active plan"),
    ("stripe", dict(currency="EUR"), "none", "Choose another active plan"),
    # another billing cycle is offered now (issue 21 item 1): tests/integration/test_upgrade_plan
    ("stripe", dict(stripe_price_id=None), "none", "has no Stripe id"),
    ("paypal", dict(paypal_plan_id=None), "none", "has no PayPal id"),
    ("paypal", {}, "always_invoice", "PayPal does not prorate"),
    ("stripe", {}, "sometimes", "does not prorate"),
])
def test_a_refused_plan_change_changes_nothing(deps, finance, gateways, gateway, plan,
                                               proration, message):
    sub, target = subscribed(gateways, gateway=gateway), other_plan(9900, **plan)
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        change_subscription_plan(deps, finance, sub.id, target.id, proration=proration)


def test_the_current_plan_is_not_another_plan(deps, finance, gateways):
    sub = subscribed(gateways)
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="another active plan"):
        change_subscription_plan(deps, finance, sub.id, sub.plan_id)


# -- cancel, undo ----------------------------------------------------------------------------
@pytest.mark.parametrize("gateway", GATEWAYS)
def test_cancelled_on_the_10th_keeps_access_until_the_20th(deps, finance, gateways, clock,
                                                           gateway):
    """The guide's rule, with the period 1–31 Jan: cancelled on the 11th at period end, the
    member has access on the 30th and not on 1 Feb."""
    sub = subscribed(gateways, gateway=gateway)
    end = sub.current_period_end
    cancel_subscription(deps, finance, sub.id, when="period_end")
    sub = fresh(Subscription, sub.id)
    assert has_access(sub, end - timedelta(days=1))
    assert not has_access(sub, end + timedelta(hours=1))
    held = gateways[gateway].subscriptions[sub.gateway_id]
    if gateway == "stripe":
        assert held.cancel_at_period_end and held.status == "active"
    else:  # PayPal cancels at once; our record keeps the access paid for
        assert held.status == "canceled" and sub.access_until == end
    assert keyed_by_our_row(gateways[gateway], sub.id)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_cancelled_now_ends_access_now(deps, finance, gateways, clock, gateway):
    sub = subscribed(gateways, gateway=gateway)
    result = cancel_subscription(deps, finance, sub.id, when="now")
    assert "access has ended" in result.message
    sub = fresh(Subscription, sub.id)
    assert sub.status == "canceled" and not has_access(sub, clock() + timedelta(minutes=1))
    assert gateways[gateway].subscriptions[sub.gateway_id].status == "canceled"


@pytest.mark.parametrize(("setup", "when", "message"), [
    ({"status": "canceled"}, "now", "already cancelled"),
    ({"cancel_at_period_end": True}, "period_end", "already cancels on 31 Jan 2026"),
    ({}, "someday", "Choose when"),
    ({"status": "incomplete"}, "period_end", "can only be cancelled immediately"),
])
def test_a_refused_cancellation_changes_nothing(deps, finance, gateways, setup, when, message):
    sub = subscribed(gateways, **setup)
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        cancel_subscription(deps, finance, sub.id, when=when)


def test_a_cancellation_the_gateway_had_made_already_is_recorded(deps, finance, gateways,
                                                                 clock):
    sub = subscribed(gateways, gateway="paypal")
    gateways["paypal"].subscriptions[sub.gateway_id].status = "canceled"
    result = cancel_subscription(deps, finance, sub.id)
    assert "already cancelled" in result.message
    assert fresh(Subscription, sub.id).status == "canceled"
    assert effects(gateways["paypal"]) == [("cancel", sub.gateway_id,
                                            changes(sub.id)[0].idempotency_key)]


def test_undo_cancel_keeps_the_subscription_renewing(deps, finance, gateways, clock):
    sub = subscribed(gateways)
    cancel_subscription(deps, finance, sub.id)
    result = undo_cancel(deps, finance, sub.id)
    assert result.message == ("The cancellation is withdrawn: the subscription renews on "
                              "31 Jan 2026.")
    sub = fresh(Subscription, sub.id)
    assert not sub.cancel_at_period_end and has_access(sub, sub.current_period_end
                                                       + timedelta(days=5))
    assert not gateways["stripe"].subscriptions[sub.gateway_id].cancel_at_period_end


def test_undo_cancel_of_a_paused_subscription_promises_no_renewal(deps, finance, gateways,
                                                                  clock):
    sub = subscribed(gateways, paused=True)
    cancel_subscription(deps, finance, sub.id)
    result = undo_cancel(deps, finance, sub.id)
    assert result.message == ("The cancellation is withdrawn. Payments stay paused, so access "
                              "ends on 31 Jan 2026 unless they are resumed.")
    sub = fresh(Subscription, sub.id)
    assert not sub.cancel_at_period_end and sub.paused
    assert has_access(sub, sub.current_period_end - timedelta(days=1))
    assert not has_access(sub, sub.current_period_end + timedelta(days=1))


@pytest.mark.parametrize(("gateway", "cancelling", "days_later", "message"), [
    ("stripe", False, 0, "no cancellation to undo"),
    ("paypal", True, 0, "PayPal cannot undo"),
    ("stripe", True, 30, "has taken effect already"),
])
def test_a_refused_undo_changes_nothing(deps, finance, gateways, clock, gateway, cancelling,
                                        days_later, message):
    sub = subscribed(gateways, gateway=gateway, cancel_at_period_end=cancelling)
    clock.advance(days=days_later)
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        undo_cancel(deps, finance, sub.id)


# -- pause, resume -------------------------------------------------------------------------
@pytest.mark.parametrize("gateway", GATEWAYS)
def test_pause_then_resume(deps, finance, gateways, gateway):
    sub = subscribed(gateways, gateway=gateway)
    pause_subscription(deps, finance, sub.id)
    sub = fresh(Subscription, sub.id)
    assert sub.paused and gateways[gateway].subscriptions[sub.gateway_id].paused
    # access lasts to the end of the period paid for, not beyond
    assert has_access(sub, sub.current_period_end - timedelta(days=1))
    assert not has_access(sub, sub.current_period_end + timedelta(days=1))
    resume_subscription(deps, finance, sub.id)
    sub = fresh(Subscription, sub.id)
    assert not sub.paused and not gateways[gateway].subscriptions[sub.gateway_id].paused
    assert has_access(sub, sub.current_period_end + timedelta(days=1))
    assert [e[0] for e in effects(gateways[gateway])] == ["pause", "resume"]
    assert keyed_by_our_row(gateways[gateway], sub.id)


def test_a_stripe_pause_until_a_date(deps, finance, gateways, clock):
    sub = subscribed(gateways)
    day = clock() + timedelta(days=40)
    result = pause_subscription(deps, finance, sub.id, resumes_at=day)
    assert result.message == ("Payments are paused until 20 Feb 2026; Stripe resumes them "
                              "then.")
    assert gateways["stripe"].subscriptions[sub.gateway_id].pause_resumes_at == day


@pytest.mark.parametrize(("gateway", "setup", "resumes_days", "message"), [
    ("stripe", {"paused": True}, None, "paused already"),
    ("paypal", {}, 10, "PayPal cannot resume payments on a date"),
    ("stripe", {}, -1, "must be in the future"),
    ("stripe", {"status": "canceled"}, None, "is cancelled"),
])
def test_a_refused_pause_changes_nothing(deps, finance, gateways, clock, gateway, setup,
                                         resumes_days, message):
    sub = subscribed(gateways, gateway=gateway, **setup)
    when = clock() + timedelta(days=resumes_days) if resumes_days is not None else None
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        pause_subscription(deps, finance, sub.id, resumes_at=when)


def test_resuming_what_is_not_paused_is_refused(deps, finance, gateways):
    sub = subscribed(gateways)
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="are not paused"):
        resume_subscription(deps, finance, sub.id)


# -- affiliate -----------------------------------------------------------------------------
def test_a_subscription_affiliate_credits_renewals_and_asks_no_gateway(deps, actors, gateways):
    sub, partner = subscribed(gateways), factories.affiliate(name="Ann")
    db.session.commit()
    support = actors["support"]  # support may edit affiliates
    result = set_subscription_affiliate(deps, support, sub.id, partner.id, request_key="f1")
    assert result.message.startswith("Renewals of this subscription now credit Ann")
    assert fresh(Subscription, sub.id).affiliate_id == partner.id
    assert gateways["stripe"].effects == []
    again = set_subscription_affiliate(deps, support, sub.id, partner.id, request_key="f1")
    assert "already submitted" in again.message and len(changes(sub.id)) == 1
    with nothing_changes(gateways):
        same = set_subscription_affiliate(deps, support, sub.id, partner.id)
    assert same.category == "info"
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="no longer exists"):
        set_subscription_affiliate(deps, support, sub.id, partner.id + 99)


# -- lost answers and repeats ----------------------------------------------------------------
@pytest.mark.parametrize("fault", ["timeout", "reset_after_success"])
def test_a_lost_answer_is_finished_by_doing_it_again_once(deps, finance, gateways, fault):
    sub = subscribed(gateways)
    gateways["stripe"].fail_verb("pause", fault)
    with pytest.raises(GatewayUnavailable) as lost:
        pause_subscription(deps, finance, sub.id)
    assert "stays pending here: do it again to finish it" in lost.value.message
    assert changes(sub.id)[0].status == "pending" and not fresh(Subscription, sub.id).paused
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="still waiting"):
        change_subscription_price(deps, finance, sub.id, 5900)  # another change must wait
    pause_subscription(deps, finance, sub.id)
    assert fresh(Subscription, sub.id).paused and len(changes(sub.id)) == 1
    assert len(effects(gateways["stripe"], "pause")) == 1
    assert keyed_by_our_row(gateways["stripe"], sub.id)


def test_a_declined_change_is_failed_and_changes_nothing_here(deps, finance, gateways):
    sub = subscribed(gateways)
    gateways["stripe"].fail_verb("change_price", "decline")
    with pytest.raises(GatewayDeclined):
        change_subscription_price(deps, finance, sub.id, 5900)
    assert fresh(Subscription, sub.id).price_cents == 4900
    assert changes(sub.id)[0].status == "failed"
    assert audit_entries("subscription.price")[-1].outcome == "failed"
    change_subscription_price(deps, finance, sub.id, 5900)  # a new attempt is not blocked
    assert fresh(Subscription, sub.id).price_cents == 5900


def test_the_same_form_sent_twice_changes_once(deps, finance, gateways):
    sub = subscribed(gateways)
    change_subscription_price(deps, finance, sub.id, 5900, request_key="form-1")
    with nothing_changes(gateways):
        again = change_subscription_price(deps, finance, sub.id, 5900, request_key="form-1")
    assert "already submitted" in again.message


# -- bulk rows -----------------------------------------------------------------------------
def test_bulk_rows_act_once_per_job_row(deps, finance, gateways):
    sub = subscribed(gateways)
    partner = factories.affiliate()
    db.session.commit()
    for _ in range(2):  # a resumed job runs its rows again
        assert price_row(deps, finance, sub.id, {"amount_cents": 5900, "currency": "USD"},
                         "job:2:row:1").state == "done"
        assert affiliate_row(deps, finance, sub.id, {"affiliate_id": partner.id},
                             "job:3:row:1").state == "done"
        assert cancel_row(deps, finance, sub.id, {"when": "period_end"}, "job:1:row:1").state \
            == "done"
    assert [e[0] for e in effects(gateways["stripe"])] == ["change_price", "cancel"]
    sub = fresh(Subscription, sub.id)
    assert sub.cancel_at_period_end and sub.price_cents == 5900
    assert sub.affiliate_id == partner.id


def test_a_bulk_row_resumed_after_a_lost_answer_finishes_it(deps, finance, gateways):
    sub = subscribed(gateways)
    gateways["stripe"].fail_verb("cancel", "reset_after_success")
    with pytest.raises(GatewayUnavailable):
        cancel_row(deps, finance, sub.id, {"when": "period_end"}, "job:1:row:1")
    assert cancel_row(deps, finance, sub.id, {"when": "period_end"}, "job:1:row:1").state \
        == "done"
    assert len(effects(gateways["stripe"], "cancel")) == 1
    assert fresh(Subscription, sub.id).cancel_at_period_end


def test_a_bulk_row_that_meets_its_change_still_being_sent_reports_unknown(deps, finance,
                                                                          gateways):
    """A job row run again (a second worker) while the first run's change is on its way to
    the gateway: it sends nothing and says the outcome is not known yet, never "done"."""
    paypal = gateways["paypal"]
    sub = subscribed(gateways, gateway="paypal")
    send, again = paypal.change_price, []

    def first_in_flight(*args, **kwargs):
        paypal.change_price = send
        again.append(price_row(deps, finance, sub.id, {"amount_cents": 5900, "currency": "USD"},
                               "job:2:row:1"))
        return send(*args, **kwargs)

    paypal.change_price = first_in_flight
    assert price_row(deps, finance, sub.id, {"amount_cents": 5900, "currency": "USD"},
                     "job:2:row:1").state == "done"
    assert again[0].state == "unknown" and "being sent to PayPal" in again[0].message
    assert len(effects(paypal, "change_price")) == 1
    assert fresh(Subscription, sub.id).price_cents == 5900


def test_a_bulk_price_in_another_currency_is_refused(deps, finance, gateways):
    sub = subscribed(gateways)
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="billed in USD"):
        price_row(deps, finance, sub.id, {"amount_cents": 5900, "currency": "EUR"}, "job:1:r")


# -- preview -------------------------------------------------------------------------------
def test_the_preview_states_stripes_figures_and_changes_nothing(deps, finance, gateways):
    sub = subscribed(gateways)
    with nothing_changes(gateways):
        lines, when = preview_subscription_change(deps, finance, sub.id, amount_cents=5900,
                                                  effective="now")
    assert lines[0] == "New amount: $59.00 per cycle (monthly)."
    assert lines[1] == "Charged now: $5.00 (the difference for the rest of this period)."
    assert when == int(deps.clock().timestamp())


def test_the_paypal_preview_states_the_notice_rule(deps, finance, gateways):
    sub = subscribed(gateways, gateway="paypal")
    with nothing_changes(gateways):
        lines, _when = preview_subscription_change(deps, finance, sub.id, amount_cents=5900,
                                                   effective="next_renewal")
    assert "PayPal does not prorate" in lines[1] and "10 days' notice" in lines[2]


def test_the_same_paypal_change_sent_while_the_first_is_in_flight_revises_once(deps, actors,
                                                                              gateways):
    """Found by tests/hardening/test_concurrency.py (two admins, the same new price, at
    once); here the interleaving is made certain: the second admin's request runs while the
    first one's revise is on its way to PayPal. PayPal's /revise takes no key (issue 17
    finding 14): the second request must not send it at all."""
    paypal = gateways["paypal"]
    paypal.keyless = {"change_price"}
    sub = subscribed(gateways, gateway="paypal")
    send = paypal.change_price
    second = []

    def first_in_flight(*args, **kwargs):
        paypal.change_price = send  # the second admin's request goes straight through
        second.append(change_subscription_price(deps, actors["owner"], sub.id, 5900))
        return send(*args, **kwargs)

    paypal.change_price = first_in_flight
    first = change_subscription_price(deps, actors["finance"], sub.id, 5900)
    assert fresh(Subscription, sub.id).price_cents == 5900
    assert len(effects(paypal, "change_price")) == 1
    assert first.category == "success"
    assert second[0].category == "info"
    assert "being sent to PayPal right now" in second[0].message
    assert "nothing more was sent" in second[0].message
    assert [c.status for c in changes(sub.id)] == ["succeeded"]


def test_a_paypal_change_whose_answer_was_lost_is_finished_by_reading_not_sent_again(
        deps, actors, gateways):
    """The first request's revise reached PayPal but its answer was lost: the same change
    asked again reads the subscription, finds it applied and records it; no second revise."""
    paypal = gateways["paypal"]
    paypal.keyless = {"change_price"}
    paypal.promises_idempotency = False
    sub = subscribed(gateways, gateway="paypal")
    paypal.fail_verb("change_price", "reset_after_success")
    with pytest.raises(GatewayUnavailable):
        change_subscription_price(deps, actors["finance"], sub.id, 5900)
    assert [c.status for c in changes(sub.id)] == ["pending"]
    again = change_subscription_price(deps, actors["owner"], sub.id, 5900)
    assert again.category == "success"
    assert len(effects(paypal, "change_price")) == 1
    assert fresh(Subscription, sub.id).price_cents == 5900
    assert [c.status for c in changes(sub.id)] == ["succeeded"]


def test_a_change_whose_sender_was_killed_is_finished_at_once_by_the_next_request(
        deps, actors, gateways):
    """A worker killed while sending a change (kill -9: no except block runs) leaves its lease
    on the change. The next request finds the lease holder's process gone and finishes the
    change at once by reading PayPal (it was applied): no wait for the lease to run out, no
    'being sent' answer, no second revise."""
    paypal = gateways["paypal"]
    paypal.keyless = {"change_price"}
    paypal.promises_idempotency = False
    sub = subscribed(gateways, gateway="paypal")
    send = paypal.change_price

    class Killed(BaseException):
        pass

    def sent_then_killed(*args, **kwargs):
        send(*args, **kwargs)
        raise Killed

    paypal.change_price = sent_then_killed
    with pytest.raises(Killed):
        change_subscription_price(deps, actors["finance"], sub.id, 5900)
    paypal.change_price = send
    db.session.rollback()
    (pending,) = changes(sub.id)
    assert pending.status == "pending" and pending.sending_until > deps.clock()
    gone = subprocess.Popen(["true"])
    gone.wait()
    pending.sending_owner = f"{socket.gethostname()}:{gone.pid}:1"  # that worker is dead
    db.session.commit()

    again = change_subscription_price(deps, actors["owner"], sub.id, 5900)
    assert again.category == "success", again.message
    assert len(effects(paypal, "change_price")) == 1
    assert fresh(Subscription, sub.id).price_cents == 5900
    assert [c.status for c in changes(sub.id)] == ["succeeded"]
