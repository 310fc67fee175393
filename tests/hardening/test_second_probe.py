"""Issue 20: what the second security probe found in the panel's own forms and URLs (items 6,
8, 10, 11, 12, 16). Each request gets a clear 4xx or message and changes nothing."""
import re
import time

import pytest
from sqlalchemy import func, select

from models import Job, SubscriptionChange, db
from tests.conftest import csrf_token, login
from tests.hardening.test_bad_input import snapshot
from tests.integration.subscription_setup import configure, make
from tests.integration.test_jobs import BULK, gateway, make_payments  # noqa: F401

BIG = str(2 ** 31)  # one past a 32-bit primary key


@pytest.fixture
def stripe_sub(app, sandbox):
    configure(app, sandbox)
    return make("stripe", sandbox)


def _post(client, name, sub_id, data):
    url = f"/admin/subscription/action/{name}/{sub_id}/?url=/admin/subscription/"
    data = dict(data, request_key="k-" + name + str(time.time()),
                csrf_token=csrf_token(client, "/admin/transaction/"))
    return client.post(url, data=data, follow_redirects=True)


@pytest.mark.parametrize("verb", ["role", "active", "end-sessions", "password-link"])
def test_admin_user_ids_past_32_bits_are_not_found(app, client, verb):
    login(client, "owner")
    before = snapshot()
    response = client.post(f"/admin/users/{BIG}/{verb}", data={
        "csrf_token": csrf_token(client, "/admin/users/"), "role": "viewer", "active": "0"})
    assert response.status_code in (302, 400, 404), response.status_code
    assert snapshot().keys() == before.keys()


def test_preview_of_a_plan_id_past_32_bits_is_an_answer(app, client, stripe_sub):
    login(client, "finance")
    response = client.get(f"/admin/subscription/preview/{stripe_sub.sub_id}/"
                          f"?kind=plan&plan={BIG}")
    assert response.status_code == 200
    assert "another plan" in response.get_json()["error"]


def test_job_rows_page_far_past_the_end_is_refused(app, client):
    owner = login(client, "owner")
    job = Job(actor_id=owner.id, action="refund_remaining", title="Refund",
              scope={"view": "transaction", "ids": []}, params={}, state="done")
    db.session.add(job)
    db.session.commit()
    for page in ("99999999999999999", "-5", "x", str(2 ** 70)):
        response = client.get(f"/admin/jobs/job/{job.id}/?rows_page={page}")
        assert response.status_code in (200, 400), page
    assert client.get(f"/admin/jobs/job/{job.id}/?rows_page=99999999999999999"
                      ).status_code == 400


def test_job_status_and_subscription_preview_are_never_cached(app, client, stripe_sub):
    owner = login(client, "owner")
    job = Job(actor_id=owner.id, action="refund_remaining", title="Refund",
              scope={"view": "transaction", "ids": []}, params={}, state="done")
    db.session.add(job)
    db.session.commit()
    status = client.get(f"/admin/jobs/job/{job.id}/status.json")
    preview = client.get(f"/admin/subscription/preview/{stripe_sub.sub_id}/"
                         "?kind=price&amount=45.00&effective=now")
    for response in (status, preview):
        assert response.status_code == 200
        assert "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("day", ["٢٠٢٧-01-01", "２０２７-01-01", "9999-12-31", "2200-01-01"])
def test_pause_dates_in_other_digits_or_centuries_ahead_are_refused(app, client, stripe_sub,
                                                                     day):
    login(client, "finance")
    page = _post(client, "subscription_pause", stripe_sub.sub_id,
                 {"resumes_on": day}).get_data(as_text=True)
    assert stripe_sub.sub().paused is False
    assert db.session.scalar(select(func.count(SubscriptionChange.id))) == 0
    assert stripe_sub.change_calls() == []
    assert "nothing was changed" in page.lower() or "Not a valid date" in page


@pytest.mark.parametrize("when", ["١٢٣", "123", "9" * 20, "-1", "1e9", "{now_minus_hour}",
                                  "{now_plus_hour}"])
@pytest.mark.parametrize("action", ["subscription_price", "subscription_plan"])
def test_proration_dates_that_are_not_the_previews_are_refused(app, client, stripe_sub, when,
                                                                action):
    login(client, "finance")
    now = int(time.time())
    when = when.format(now_minus_hour=now - 3600, now_plus_hour=now + 3600)
    form = ({"amount": "45.00", "effective": "now"} if action == "subscription_price" else
            {"plan": str(stripe_sub.other_plan_id), "proration": "always_invoice"})
    page = _post(client, action, stripe_sub.sub_id, {**form, "proration_date": when})
    text = page.get_data(as_text=True)
    assert page.status_code in (200, 400)
    assert stripe_sub.change_calls() == [], when
    assert "preview" in text.lower() and "nothing was changed" in text.lower()


def test_the_previews_own_proration_date_is_used(app, client, stripe_sub):
    login(client, "finance")
    preview = client.get(f"/admin/subscription/preview/{stripe_sub.sub_id}/"
                         "?kind=price&amount=45.00&effective=now").get_json()
    _post(client, "subscription_price", stripe_sub.sub_id,
          {"amount": "45.00", "effective": "now", "proration_date": preview["proration_date"]})
    calls = stripe_sub.change_calls()
    assert len(calls) == 1
    sent = calls[0][0].form["proration_date"]
    assert abs(int(sent) - int(time.time())) < 120


@pytest.mark.parametrize("typed", ["١", "３", "٣", "+3", " 3", "3.0", "1e0", "0x3"])
def test_the_bulk_refunds_typed_count_wants_ascii_digits(app, client, gateway, typed):
    ids = make_payments(1)
    login(client, "finance")
    url = f"{BULK}?ids={ids[0]}"
    html = client.get(url).get_data(as_text=True)
    hidden = {name: re.search(rf'name="{name}"[^>]*value="([^"]+)"', html).group(1)
              for name in ("csrf_token", "request_key")}
    client.post(url, data={**hidden, "expected_count": "1", "typed_count": typed,
                           "reason": "other"})
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0, typed


BULK_URL_PAYLOADS = ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example",
                     "/%09/evil.example", "/ /evil.example", "/\x0b/evil.example"]


@pytest.mark.parametrize("role", ["finance", "support"])
def test_bulk_confirmation_links_and_redirects_stay_on_the_site(app, client, gateway, role,
                                                                reliability):
    """Item 9: the Cancel/Go back link of the bulk confirmation page and the redirect of a
    refused role use the same guard as every other redirect (tests/hardening/payloads.py)."""
    from urllib.parse import quote

    from tests.hardening.payloads import REDIRECT_PAYLOADS, stays_on_site
    ids = make_payments(1)
    login(client, role)
    for payload in BULK_URL_PAYLOADS + REDIRECT_PAYLOADS:
        for sent in (payload, quote(payload, safe="/:")):
            response = client.get(f"{BULK}?ids={ids[0]}&url={sent}")
            assert response.status_code in (200, 302, 400), (payload, response.status_code)
            assert stays_on_site(response.headers.get("Location")), payload
            html = response.get_data(as_text=True)
            back = re.search(r'href="([^"]*)"[^>]*>Go back', html)
            if response.status_code == 200:
                assert back and stays_on_site(back.group(1).replace("&amp;", "&")), payload
            assert not [link for link in re.findall(r'href="([^"]*)"', html)
                        if ("evil" in link.lower() or "javascript:alert" in link.lower())
                        and not stays_on_site(link.replace("&amp;", "&"))]
            reliability.count("redirects")
