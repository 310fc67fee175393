"""Edit price, change plan, edit affiliate, pause and resume, on both gateways' fakes."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from actions.errors import InvalidRequest
from actions.subscription_affiliate import set_subscription_affiliate
from actions.subscription_approval import check_approval
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.subscription_plan import change_subscription_plan
from actions.subscription_preview import preview_subscription_change
from actions.subscription_price import change_subscription_price
from models import AuditEvent, SubscriptionChange, db
from models.sub_state import status_label
from tests import factories
from tests.conftest import login
from tests.integration.subscription_setup import (TENTH, deps_at, finance,  # noqa: F401
                                                  paypal_setup, setup)

pytestmark = pytest.mark.timeout(60)


def only_change():
    [change] = db.session.scalars(select(SubscriptionChange)).all()
    return change


def test_new_price_from_the_next_renewal(app, setup, finance):
    result = change_subscription_price(deps_at(app), finance, setup.sub_id, 4500)

    assert setup.sub().price_cents == 4500
    change = only_change()
    [(call, key)] = setup.change_calls()
    if setup.gateway == "stripe":
        assert key == change.idempotency_key and f"-change-{change.id}-" in key
    else:  # PayPal declares no PayPal-Request-Id on its subscription verbs
        assert key is None
    if setup.gateway == "stripe":
        price = setup.fake.prices[call.form["items[0][price]"]]
        assert price["unit_amount"] == 4500
        assert price["metadata"] == {"memberdesk_key": change.idempotency_key}
        assert call.form["proration_behavior"] == "none"
        assert setup.fake.invoices == []
        assert result.message == "The subscription costs $45.00 from the renewal on 20 Dec 2026."
    else:
        fixed = call.body["plan"]["billing_cycles"][0]["pricing_scheme"]["fixed_price"]
        assert fixed == {"value": "45.00", "currency_code": "USD"}
        assert setup.fake.prices[setup.ref] == ("45.00", "USD")
        assert "PayPal's 10-day notice rule applies" in result.message
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.outcome == "succeeded"))
    assert (event.before["price_cents"], event.after["price_cents"]) == (3000, 4500)


def test_new_price_now_is_prorated_on_stripe_only(app, setup, finance):
    if setup.gateway == "paypal":
        with pytest.raises(InvalidRequest, match="PayPal applies a new price from a billing "
                                                 "cycle on"):
            change_subscription_price(deps_at(app), finance, setup.sub_id, 4500, effective="now")
        assert setup.change_calls() == [] and setup.sub().price_cents == 3000
        return
    lines, when = preview_subscription_change(deps_at(app), finance, setup.sub_id,
                                              amount_cents=4500, effective="now")
    # 10 of 30 days left: $10.00 unused credited, $15.00 charged: $5.00 now
    assert lines[1] == "Charged now: $5.00 (the difference for the rest of this period)."

    change_subscription_price(deps_at(app), finance, setup.sub_id, 4500, effective="now",
                              proration_date=when)

    [invoice] = setup.fake.invoices
    assert sum(line["amount"] for line in invoice["lines"]) == 500


def test_same_price_and_bad_amounts_change_nothing(app, setup, finance):
    for amount in (3000, 0, -5):
        with pytest.raises(InvalidRequest):
            change_subscription_price(deps_at(app), finance, setup.sub_id, amount)
    assert setup.change_calls() == [] and db.session.scalars(select(SubscriptionChange)).all() == []


def test_plan_change(app, setup, finance):
    proration = "create_prorations" if setup.gateway == "stripe" else "none"
    lines, _ = preview_subscription_change(deps_at(app), finance, setup.sub_id,
                                           plan_id=setup.other_plan_id, proration=proration)
    if setup.gateway == "stripe":
        assert lines[2] == ("On the next invoice (20 Dec 2026): a charge of $6.67 for the rest "
                            "of this period, plus $50.00 for the next one: $56.67 in all.")
    else:
        assert "nothing is charged or credited now (PayPal does not prorate)" in lines[1]

    result = change_subscription_plan(deps_at(app), finance, setup.sub_id, setup.other_plan_id,
                                      proration=proration)

    sub = setup.sub()
    assert (sub.plan_id, sub.name, sub.price_cents) == (setup.other_plan_id, "Gold", 5000)
    assert result.message == "The subscription is now on “Gold” at $50.00 monthly."
    assert only_change().status == "succeeded"


def test_paypal_plan_change_waiting_for_the_payers_approval(app, client, paypal_setup,
                                                            finance):
    setup = paypal_setup
    setup.fake.require_approval = True

    result = change_subscription_plan(deps_at(app), finance, setup.sub_id, setup.other_plan_id)

    sub = setup.sub()
    change = only_change()
    assert change.status == "awaiting_approval" and change.approval_url == sub.approval_url
    assert sub.approval_url.startswith("https://www.paypal.com/webapps/billing/")
    assert (sub.name, sub.price_cents) == ("Silver", 3000)  # until the payer approves
    assert status_label(sub, TENTH) == ("Active — waiting for the customer's approval of a "
                                        "change")
    assert result.category == "info" and sub.approval_url in result.message
    with pytest.raises(InvalidRequest, match="waiting for the customer's approval of an earlier"):
        change_subscription_price(deps_at(app), finance, setup.sub_id, 4000)
    login(client, "viewer")
    profile = client.get(f"/admin/customer/profile/{sub.customer_id}/").get_data(as_text=True)
    assert "waiting for the customer&#39;s approval" in profile
    assert sub.approval_url.replace("&", "&amp;") in profile

    waiting = check_approval(deps_at(app), finance, setup.sub_id)
    assert waiting.message == ("PayPal says the customer has not approved the change yet; it "
                               "is still waiting (until 17 Dec 2026).")
    setup.fake.approve(setup.ref)  # the payer follows the link

    done = check_approval(deps_at(app), finance, setup.sub_id)

    sub = setup.sub()
    assert done.message == ("The customer approved the change: the subscription now costs "
                            "$50.00 per cycle on “Gold”.")
    assert (sub.name, sub.price_cents, sub.approval_url) == ("Gold", 5000, None)
    assert only_change().status == "succeeded"
    assert status_label(sub, TENTH) == "Active"


def test_plan_of_another_currency_is_refused(app, setup, finance):
    euro = factories.plan("Euro Gold", 5000, currency="EUR", stripe_price_id="price_x",
                          paypal_plan_id="P-X")
    db.session.commit()
    with pytest.raises(InvalidRequest, match="^Choose another active plan in the same currency"):
        change_subscription_plan(deps_at(app), finance, setup.sub_id, euro.id)
    assert setup.change_calls() == []


def test_affiliate_for_future_renewals(app, setup, finance):
    aff = factories.affiliate(name="Partner Co", rate_bp=1500)
    db.session.commit()

    result = set_subscription_affiliate(deps_at(app), finance, setup.sub_id, aff.id)

    assert setup.sub().affiliate_id == aff.id and setup.change_calls() == []
    assert result.message == ("Renewals of this subscription now credit Partner Co; past "
                              "sales keep their affiliate.")
    again = set_subscription_affiliate(deps_at(app), finance, setup.sub_id, aff.id)
    assert again.category == "info"
    set_subscription_affiliate(deps_at(app), finance, setup.sub_id, None)
    assert setup.sub().affiliate_id is None


def test_pause_then_resume(app, setup, finance):
    resumes = datetime(2027, 1, 5, tzinfo=timezone.utc) if setup.gateway == "stripe" else None

    pause_subscription(deps_at(app), finance, setup.sub_id, resumes_at=resumes)

    sub = setup.sub()
    assert sub.paused and sub.pause_resumes_at == resumes
    assert status_label(sub, TENTH) == ("Payments paused until 5 Jan 2027" if resumes
                                        else "Payments paused")
    with pytest.raises(InvalidRequest, match="paused already"):
        pause_subscription(deps_at(app), finance, setup.sub_id)

    resume_subscription(deps_at(app), finance, setup.sub_id)

    assert not setup.sub().paused
    expected = ["pause", "resume"] if setup.gateway == "stripe" else ["suspend", "activate"]
    assert setup.effects() == expected


def test_paypal_takes_no_resume_date(app, paypal_setup, finance):
    with pytest.raises(InvalidRequest, match="^PayPal cannot resume payments on a date"):
        pause_subscription(deps_at(app), finance, paypal_setup.sub_id,
                           resumes_at=datetime(2027, 1, 5, tzinfo=timezone.utc))
    assert paypal_setup.change_calls() == [] and not paypal_setup.sub().paused
