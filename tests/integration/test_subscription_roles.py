"""Roles, on the server: support and viewer cannot change, cancel or pause a subscription
(support may edit its affiliate); finance and owner can. What the UI hides is refused."""
import re

import pytest
from sqlalchemy import func, select

from actions.errors import NotAllowed
from actions.subscription_cancel import cancel_subscription, undo_cancel
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.subscription_plan import change_subscription_plan
from actions.subscription_price import change_subscription_price
from models import AuditEvent, SubscriptionChange, db
from tests.conftest import csrf_token, login, make_admin
from tests.integration.subscription_setup import deps_at, setup  # noqa: F401

pytestmark = pytest.mark.timeout(60)

FORMS = {
    "subscription_price": lambda s: {"amount": "45.00", "effective": "next_renewal"},
    "subscription_plan": lambda s: {"plan": str(s.other_plan_id), "proration": "none"},
    "subscription_cancel": lambda s: {"when": "period_end"},
    "subscription_pause": lambda s: {},
}
FUNCTIONS = [
    lambda d, a, s: change_subscription_price(d, a, s.sub_id, 4500),
    lambda d, a, s: change_subscription_plan(d, a, s.sub_id, s.other_plan_id),
    lambda d, a, s: cancel_subscription(d, a, s.sub_id),
    lambda d, a, s: undo_cancel(d, a, s.sub_id),
    lambda d, a, s: pause_subscription(d, a, s.sub_id),
    lambda d, a, s: resume_subscription(d, a, s.sub_id),
]


def post(client, name, sub_id, data):
    url = f"/admin/subscription/action/{name}/{sub_id}/?url=/admin/subscription/"
    data = dict(data, request_key="k-" + name, csrf_token=csrf_token(client, "/admin/transaction/"))
    return client.post(url, data=data, follow_redirects=True).get_data(as_text=True)


def changes():
    return db.session.scalar(select(func.count(SubscriptionChange.id)))


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_support_and_viewer_cannot_submit_them(app, client, setup, role):
    login(client, role)
    for name, data in FORMS.items():
        page = post(client, name, setup.sub_id, data(setup))
        assert f"Your role ({role}) does not allow" in page and "nothing was changed" in page
    assert changes() == 0 and setup.change_calls() == []
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.outcome == "denied")) == len(FORMS)
    profile = client.get(f"/admin/customer/profile/{setup.sub().customer_id}/?modal=1")
    html = profile.get_data(as_text=True)
    assert 'data-action="subscription_price"' not in html
    assert 'data-action="subscription_cancel"' not in html
    assert ('data-action="subscription_affiliate"' in html) == (role == "support")


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_the_functions_refuse_them_whoever_calls(app, setup, role):
    actor = make_admin(role)
    for call in FUNCTIONS:
        with pytest.raises(NotAllowed, match=rf"^Your role \({role}\) does not allow"):
            call(deps_at(app), actor, setup)
    assert changes() == 0 and setup.change_calls() == []


@pytest.mark.parametrize("role", ["finance", "owner"])
def test_finance_and_owner_can(app, client, setup, role):
    login(client, role)
    modal = client.get(f"/admin/subscription/action/subscription_cancel/{setup.sub_id}/"
                       "?modal=1&url=/admin/").get_data(as_text=True)
    assert "At the end of the billing period" in modal and "20 Dec 2026" in modal

    page = post(client, "subscription_price", setup.sub_id, FORMS["subscription_price"](setup))
    assert "The subscription costs $45.00 from the renewal on" in page
    page = post(client, "subscription_cancel", setup.sub_id, {"when": "period_end"})
    assert re.search(r"cancels on|keeps access until", page)
    assert changes() == 2 and setup.sub().price_cents == 4500


def test_support_edits_the_affiliate(app, client, setup):
    from tests import factories
    aff = factories.affiliate(name="Partner Co")
    db.session.commit()
    login(client, "support")
    page = post(client, "subscription_affiliate", setup.sub_id, {"affiliate": str(aff.id)})
    assert "Renewals of this subscription now credit Partner Co" in page
    assert setup.sub().affiliate_id == aff.id


def test_a_hidden_button_is_refused_on_post(app, client, setup):
    login(client, "finance")
    post(client, "subscription_cancel", setup.sub_id, {"when": "now"})
    page = client.post(f"/admin/subscription/action/subscription_cancel/{setup.sub_id}/"
                       "?url=/admin/subscription/",
                       data={"when": "now", "request_key": "other",
                             "csrf_token": csrf_token(client, "/admin/transaction/")},
                       follow_redirects=True).get_data(as_text=True)
    assert "This subscription is cancelled; that action does not apply to it." in page
    assert changes() == 1
