"""Subscription bulk actions as jobs, through the subscription action functions, against the
Stripe and PayPal HTTP fakes: cancel, change affiliate, change price from the next renewal."""
from collections import Counter

import pytest
from sqlalchemy import func, select

from admin_app import jobs, queue
from models import Job, Subscription, SubscriptionChange, db
from tests import factories
from tests.conftest import csrf_token, login, make_admin
from tests.integration.subscription_setup import configure, make
from tests.job_support import wait_for_job

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def subs(app, sandbox):
    configure(app, sandbox)
    made = [make(g, sandbox) for g in ("stripe", "stripe", "paypal", "paypal")]
    return made


def _effects(subs):
    fakes = {id(s.fake): s.fake for s in subs}.values()
    return Counter(what for fake in fakes for what, _ in fake.effects)


def _run(actor, name, ids, params):
    job = jobs.create_job(actor, name, {"view": "subscription", "ids": ids}, params)
    queue.backend().wait_idle(90)
    return wait_for_job(job.id, timeout=90)


def test_bulk_cancel_at_period_end_acts_once_per_subscription(app, subs):
    finance = make_admin("finance")
    ids = [s.sub_id for s in subs]
    job = _run(finance, "cancel_subscription", ids, {"when": "period_end"})
    assert (job.done_count, job.failed_count, job.skipped_count) == (4, 0, 0)
    effects = _effects(subs)
    assert effects == Counter({"cancel_at_period_end": 2, "cancel": 2})
    db.session.expire_all()
    assert [db.session.get(Subscription, i).cancel_at_period_end for i in ids[:2]] == [True] * 2
    assert [db.session.get(Subscription, i).status for i in ids[2:]] == ["canceled"] * 2

    again = _run(finance, "cancel_subscription", ids, {"when": "period_end"})
    assert again.skipped_count == 4  # "already cancels on ..." / "already cancelled"
    assert _effects(subs) == effects


def test_bulk_affiliate_change_and_support_may_do_it(app, subs):
    support = make_admin("support")
    affiliate = factories.affiliate(name="Partner Co")
    db.session.commit()
    ids = [s.sub_id for s in subs]
    job = _run(support, "set_subscription_affiliate", ids, {"affiliate_id": affiliate.id})
    assert job.done_count == 4
    db.session.expire_all()
    assert {db.session.get(Subscription, i).affiliate_id for i in ids} == {affiliate.id}


def test_bulk_price_change_skips_other_currencies_and_roles_are_checked(app, subs, client):
    finance = make_admin("finance")
    eur = db.session.get(Subscription, subs[0].sub_id)
    eur.currency = "EUR"
    db.session.commit()
    ids = [s.sub_id for s in subs]
    job = _run(finance, "change_subscription_price", ids,
               {"amount_cents": 3500, "currency": "USD"})
    assert (job.done_count, job.skipped_count) == (3, 1)
    changes = db.session.scalar(select(func.count()).select_from(SubscriptionChange))
    assert changes == 3

    login(client, "support")  # support may not change prices: refused before any job
    response = client.post(f"/admin/subscription/bulk/change_subscription_price/?ids={ids[1]}",
                           data={"csrf_token": csrf_token(client, "/admin/subscription/"),
                                 "expected_count": "1", "currency": "USD", "amount": "40.00"},
                           follow_redirects=True)
    assert "does not allow" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1


def test_bulk_cancel_form_needs_csrf(app, subs, client):
    login(client, "owner")
    response = client.post(f"/admin/subscription/bulk/cancel_subscription/?ids={subs[0].sub_id}",
                           data={"expected_count": "1", "when": "now"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_bulk_affiliate_skips_cancelled_ones_as_it_promises(app, subs, client):
    """Issue 21 item 5: the confirmation says one is cancelled and will be skipped; the job
    skips it (no affiliate change there); monthly and yearly prices are not added up; the
    affiliates' rates are listed; the button is not danger-red."""
    affiliate = factories.affiliate(rate_bp=1250, name="Partner Co")
    yearly = factories.plan("Gold Yearly", 40000, interval="year")
    factories.subscription(factories.customer(name="Yearly Member"), yearly)
    cancelled = db.session.get(Subscription, subs[2].sub_id)
    cancelled.status, cancelled.access_until = "canceled", cancelled.current_period_end
    db.session.commit()
    ids = [s.sub_id for s in subs]
    login(client, "support")
    all_ids = ",".join(str(i) for i in db.session.scalars(select(Subscription.id)))
    page = client.get(f"/admin/subscription/bulk/set_subscription_affiliate/?ids={all_ids}")
    html = page.get_data(as_text=True)
    assert "1 of them is cancelled: the job lists it as skipped" in html
    assert "In USD, monthly" in html and "In USD, yearly" in html
    assert "$120.00 per month now" in html and "$400.00 per year now" in html
    assert "Partner Co (12.5 %)" in html
    assert "btn-danger" not in html.split('id="md-bulk-form"', 1)[1]
    job = _run(make_admin("support", email="s2@memberdesk.test"), "set_subscription_affiliate",
               ids, {"affiliate_id": affiliate.id})
    assert (job.done_count, job.skipped_count) == (3, 1)
    db.session.expire_all()
    assert db.session.get(Subscription, subs[2].sub_id).affiliate_id is None
