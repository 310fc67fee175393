"""A change waiting for the PayPal payer's approval (issue 17, finding 6): Check Approval
records exactly this change, a waiting change lapses, and Withdraw Change gives it up (a
row action like the others, refused on the server when nothing waits, audited)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from actions.errors import InvalidRequest
from actions.subscription_approval import check_approval, withdraw_change
from actions.subscription_price import change_subscription_price
from models import AuditEvent, SubscriptionChange, db
from tests.conftest import csrf_token, login
from tests.integration.subscription_setup import (TENTH, deps_at, finance,  # noqa: F401
                                                  paypal_setup)

pytestmark = pytest.mark.timeout(60)


def changes():
    return db.session.scalars(select(SubscriptionChange).order_by(SubscriptionChange.id)).all()


def waiting_for_50(app, setup, finance):
    """$40.00 set earlier (in force at PayPal), then $50.00 waiting for the payer."""
    change_subscription_price(deps_at(app), finance, setup.sub_id, 4000)
    setup.fake.require_approval = True
    change_subscription_price(deps_at(app), finance, setup.sub_id, 5000)
    assert setup.sub().approval_url


def test_check_approval_records_only_this_change(app, paypal_setup, finance):
    setup = paypal_setup
    waiting_for_50(app, setup, finance)

    result = check_approval(deps_at(app), finance, setup.sub_id)

    assert "has not approved the change yet" in result.message
    assert setup.sub().price_cents == 4000  # what PayPal charges, not the $50.00 asked
    setup.fake.approve(setup.ref)
    check_approval(deps_at(app), finance, setup.sub_id)
    assert setup.sub().price_cents == 5000 and setup.sub().approval_url is None


def test_a_waiting_change_lapses_and_no_longer_blocks_the_next(app, paypal_setup, finance):
    setup = paypal_setup
    waiting_for_50(app, setup, finance)
    with pytest.raises(InvalidRequest, match="waiting for the customer's approval"):
        change_subscription_price(deps_at(app), finance, setup.sub_id, 4500)

    later = deps_at(app, TENTH + timedelta(days=8))
    result = check_approval(later, finance, setup.sub_id)

    assert "has lapsed: nothing changed" in result.message
    assert changes()[-1].status == "expired" and setup.sub().approval_url is None
    setup.fake.require_approval = False
    change_subscription_price(later, finance, setup.sub_id, 4500)
    assert setup.sub().price_cents == 4500


def test_a_lapsed_change_does_not_block_a_new_one(app, paypal_setup, finance):
    setup = paypal_setup
    waiting_for_50(app, setup, finance)
    setup.fake.require_approval = False

    change_subscription_price(deps_at(app, TENTH + timedelta(days=8)), finance,
                              setup.sub_id, 4500)

    assert [c.status for c in changes()] == ["succeeded", "expired", "succeeded"]
    assert setup.sub().price_cents == 4500


def test_withdraw_change_is_a_row_action_refused_when_nothing_waits(app, client,
                                                                     paypal_setup, finance):
    setup = paypal_setup
    waiting_for_50(app, setup, finance)
    login(client, "finance", email="clerk@example.com")
    url = (f"/admin/subscription/action/subscription_withdraw/{setup.sub_id}/"
           "?url=/admin/subscription/")
    modal = client.get(url).get_data(as_text=True)
    assert "Withdraw the change" in modal

    page = client.post(url, data={"csrf_token": csrf_token(client, "/admin/transaction/")},
                       follow_redirects=True).get_data(as_text=True)

    assert "The change is withdrawn" in page
    assert changes()[-1].status == "withdrawn" and setup.sub().approval_url is None
    assert setup.sub().price_cents == 4000
    entry = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "subscription.price").order_by(AuditEvent.id.desc()))
    assert entry.actor_email == "clerk@example.com" and "withdrawn" in entry.message
    again = client.post(url, data={"csrf_token": csrf_token(client, "/admin/transaction/")},
                        follow_redirects=True).get_data(as_text=True)
    assert "does not apply to it. Nothing was changed." in again
    with pytest.raises(InvalidRequest, match="nothing to withdraw"):
        withdraw_change(deps_at(app), finance, setup.sub_id)
