"""One state, one label, one filter value, and only the actions that apply (issue 21, items
2 and 3): the Status filter agrees with the label on every kind of subscription, on both
gateways; what a state hides is refused on the server when POSTed anyway."""
from datetime import timedelta
from itertools import product

import pytest
from sqlalchemy import func, select

from models import Subscription, SubscriptionChange, db
from models._types import utcnow
from models.sub_state import STATES, label, state, state_sql
from tests import factories
from tests.conftest import csrf_token, login
from tests.integration.subscription_setup import setup  # noqa: F401

ROW_ACTIONS = {"price": {"amount": "45.00", "effective": "next_renewal"},
               "plan": {"proration": "none"}, "affiliate": {"affiliate": ""},
               "cancel": {"when": "period_end"}, "undo_cancel": {}, "pause": {},
               "resume": {}}


def every_kind_of_subscription(now):
    plan = factories.plan("Silver", 3000)
    customer = factories.customer(name="Many Subs")
    made = []
    day = timedelta(days=1)
    for status, paused, at_end, cancel_at, ends, gateway, unpaid_from in product(
            ("active", "trialing", "past_due", "incomplete", "unpaid", "canceled"),
            (False, True), (False, True), (None, 5 * day, -5 * day), (9 * day, -2 * day),
            ("stripe", "paypal"), (None, -3 * day)):
        if status == "canceled" and (paused or at_end or cancel_at or unpaid_from):
            continue
        if unpaid_from and gateway != "stripe":
            continue
        made.append(factories.subscription(
            customer, plan, status=status, gateway=gateway, paused=paused,
            cancel_at_period_end=at_end, cancel_at=now + cancel_at if cancel_at else None,
            current_period_end=now + ends, next_payment_date=now + ends,
            access_until=now + ends if status == "canceled" else None,
            unpaid_from=now + unpaid_from if unpaid_from else None))
    db.session.commit()
    return made


def test_the_status_filter_is_the_label_in_sql(app):
    now = utcnow()
    subs = every_kind_of_subscription(now)
    seen = set()
    for key in STATES:
        in_sql = set(db.session.scalars(select(Subscription.id).where(state_sql(key, now))))
        in_python = {s.id for s in subs if state(s, now) == key}
        assert in_sql == in_python, key
        seen |= in_python
    assert seen == {s.id for s in subs}  # every subscription has exactly one state
    for sub in subs:
        text = label(sub, now)
        assert text.startswith(STATES[state(sub, now)].rstrip(" …").split(" until")[0])


def test_a_period_end_cancellation_reads_the_same_on_both_gateways(app, client):
    now = utcnow()
    plan = factories.plan("Silver", 3000)
    end = now + timedelta(days=20)
    stripe = factories.subscription(factories.customer(name="Stripe Leaver"), plan,
                                    cancel_at_period_end=True, current_period_end=end,
                                    next_payment_date=end)
    paypal = factories.subscription(factories.customer(name="PayPal Leaver"), plan,
                                    gateway="paypal", status="canceled", access_until=end,
                                    current_period_end=end, next_payment_date=None)
    factories.subscription(factories.customer(name="Still Renewing"), plan,
                           current_period_end=end, next_payment_date=end)
    db.session.commit()
    assert label(stripe, now) == label(paypal, now) == \
        f"Cancelled — access until {label(stripe, now).rsplit('until ', 1)[1]}"
    login(client, "viewer")
    html = client.get("/admin/subscription/?flt0_1=cancelling").get_data(as_text=True)
    assert "Stripe Leaver" in html and "PayPal Leaver" in html
    assert "Still Renewing" not in html
    assert html.count("Cancelled — access until") == 2


def post(client, name, sub_id, data):
    url = f"/admin/subscription/action/subscription_{name}/{sub_id}/?url=/admin/subscription/"
    data = dict(data, request_key="k-" + name, csrf_token=csrf_token(client, "/admin/transaction/"))
    return client.post(url, data=data, follow_redirects=True).get_data(as_text=True)


SITUATIONS = {
    # past due since 25 Nov: only the affiliate and an immediate cancellation apply
    "past_due": (dict(status="past_due", days_to_end=-8), {"affiliate", "cancel"}),
    "paused": (dict(paused=True, days_to_end=17), {"affiliate", "cancel", "resume"}),
    "cancelling": (dict(cancel_at_period_end=True, days_to_end=17), {"cancel", "undo_cancel"}),
    "cancelled_with_access": (dict(status="canceled", access_days=17, days_to_end=17), set()),
    "trialing": (dict(status="trialing", days_to_end=10), {"price", "plan", "affiliate",
                                                           "cancel"}),
}


@pytest.mark.parametrize("situation", SITUATIONS)
def test_only_the_actions_that_apply_are_offered_and_accepted(app, client, setup, situation):
    fields, offered = SITUATIONS[situation]
    fields = dict(fields)
    now = utcnow()
    sub = setup.sub()
    sub.current_period_end = now + timedelta(days=fields.pop("days_to_end"))
    if "access_days" in fields:
        sub.access_until = now + timedelta(days=fields.pop("access_days"))
        sub.next_payment_date = None
    for name, value in fields.items():
        setattr(sub, name, value)
    db.session.commit()
    if setup.gateway == "paypal":
        offered = offered - {"undo_cancel"}
    login(client, "owner")
    html = client.get(f"/admin/customer/profile/{sub.customer_id}/?modal=1").get_data(
        as_text=True)
    shown = {name for name in ROW_ACTIONS if f'data-action="subscription_{name}"' in html}
    assert shown == offered
    for name in set(ROW_ACTIONS) - offered:
        data = dict(ROW_ACTIONS[name])
        if name == "plan":
            data["plan"] = str(setup.other_plan_id)
        page = post(client, name, setup.sub_id, data)
        assert "Nothing was changed" in page or "nothing was changed" in page, name
    assert setup.change_calls() == []
    assert db.session.scalar(select(func.count(SubscriptionChange.id))) == 0


@pytest.mark.parametrize("status", ["past_due", "unpaid"])
def test_an_unpaid_subscription_is_cancelled_now_and_says_so(app, client, setup, status):
    sub = setup.sub()
    sub.status, sub.current_period_end = status, utcnow() - timedelta(days=8)
    db.session.commit()
    login(client, "finance")
    modal = client.get(f"/admin/subscription/action/subscription_cancel/{sub.id}/?modal=1"
                       "&url=/admin/subscription/").get_data(as_text=True)
    assert "can only be cancelled immediately" in modal
    assert "You can undo this" not in modal and "Paid until" not in modal
    assert 'value="period_end"' not in modal and 'value="now"' in modal
    page = post(client, "cancel", sub.id, {"when": "period_end"})
    assert "can only be cancelled immediately" in page
    assert setup.change_calls() == []
    page = post(client, "cancel", sub.id, {"when": "now"})
    sub = setup.sub()
    assert sub.status == "canceled" and sub.access_until <= utcnow()
    html = client.get("/admin/subscription/").get_data(as_text=True)
    assert 'data-action="subscription_' not in html.split("Ada Lovelace", 1)[1].split("</tr>")[0]


def test_paused_and_cancelled_show_no_next_payment(app, client):
    now = utcnow()
    plan = factories.plan("Silver", 3000)
    soon = now + timedelta(days=7)
    for name, fields in (("Paused Pat", {"paused": True}),
                         ("Leaving Lee", {"cancel_at_period_end": True}),
                         ("Renewing Ray", {})):
        factories.subscription(factories.customer(name=name), plan, current_period_end=soon,
                               next_payment_date=soon, **fields)
    db.session.commit()
    login(client, "viewer")
    html = client.get("/admin/subscription/").get_data(as_text=True)
    from models.dates import format_day
    rows = {name: html.split(name, 1)[1].split("</tr>")[0]
            for name in ("Paused Pat", "Leaving Lee", "Renewing Ray")}
    day = format_day(soon)
    assert day in rows["Renewing Ray"]
    for name in ("Paused Pat", "Leaving Lee"):
        cell = rows[name].split('col-next_payment_date">', 1)[1].split("</td>")[0]
        assert day not in cell and "—" in cell
