"""Issue 13, Proof: property-based inputs to every action form and every list parameter.

Never a 500; a refused request changes nothing (every table compared, the audit log only grows
by refusals). Counts go to docs/RELIABILITY.md (tests/reliability.py).
"""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlalchemy import func, select

from models import Job, db
from models.transaction import REFUND_REASONS
from tests.conftest import csrf_token, login
from tests.hardening.routes import sample_data
from tests.hardening.strategies import numbers, texts
from tests.hardening.test_bad_input import snapshot

FAST = dict(deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                   HealthCheck.data_too_large, HealthCheck.filter_too_much])
DETAIL_FIELDS = ["name", "email", "company", "company_id", "company_email", "tax_id", "phone",
                 "address", "city", "state", "postal_code", "vat_number"]
LIST_VIEWS = ["customer", "transaction", "subscription", "plan", "affiliate", "audit"]


def without_audit(tables):
    return {name: rows for name, rows in tables.items() if name != "audit_event"}


class Session:
    """A logged-in client with its CSRF token and the data set, shared by the examples."""

    def __init__(self, client, role):
        self.client, self.ids = client, sample_data()
        login(client, role)
        self.token = csrf_token(client, "/admin/customer/")
        self.tables = without_audit(snapshot())

    def post(self, url, form, reliability, generated):
        response = self.client.post(url, data={"csrf_token": self.token, **form})
        assert response.status_code < 500, (url, form)
        reliability.count("fuzz", generated)
        reliability.count("fuzz_app")
        return response

    def refused(self, response):
        """Not a 302, or a 302 that flashed an error (the flashes are taken off the session)."""
        with self.client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        return response.status_code != 302 or any(cat == "error" for cat, _ in flashes)

    def unchanged_unless(self, succeeded):
        now = without_audit(snapshot())
        if not succeeded:
            assert now == self.tables, "a refused request changed data"
        self.tables = now


@pytest.fixture
def owner(app, client):
    return Session(client, "owner")


@pytest.fixture
def viewer(app, client):
    login(client, "viewer")
    return client


@settings(max_examples=150, **FAST)
@given(fields=st.fixed_dictionaries({f: texts for f in DETAIL_FIELDS}),
       country=st.one_of(st.sampled_from(["", "US", "DE", "FR", "GB", "XX"]), texts))
def test_customer_edit_form(owner, reliability, fields, country):
    response = owner.post(f"/admin/customer/edit/?id={owner.ids['customer']}",
                          {**fields, "country": country}, reliability, len(fields) + 1)
    owner.unchanged_unless(not owner.refused(response))


@settings(max_examples=150, **FAST)
@given(amount=numbers, reason=st.one_of(st.sampled_from(list(REFUND_REASONS)), texts),
       note=texts, currency=st.one_of(st.sampled_from(["USD", "EUR", "JPY", ""]), texts),
       key=st.one_of(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), texts))
def test_refund_form(owner, reliability, amount, reason, note, currency, key):
    # No gateway is configured: every refund is refused (at the latest by the gateway lookup),
    # so nothing but refusal audits may be written.
    response = owner.post(f"/admin/transaction/action/refund/{owner.ids['transaction']}/",
                          {"amount": amount, "reason": reason, "note": note,
                           "currency": currency, "request_key": key}, reliability, 5)
    assert response.status_code in (200, 302, 400) and owner.refused(response)
    owner.unchanged_unless(False)


@settings(max_examples=100, **FAST)
@given(affiliate=st.one_of(st.just("AFF"), st.just(""), numbers), commission=numbers)
def test_edit_sale_form(owner, reliability, affiliate, commission):
    affiliate = str(owner.ids["affiliate"]) if affiliate == "AFF" else affiliate
    response = owner.post(f"/admin/transaction/action/affiliate/{owner.ids['transaction']}/",
                          {"affiliate": affiliate, "commission": commission}, reliability, 2)
    owner.unchanged_unless(not owner.refused(response))


@settings(max_examples=25, **FAST)
@given(extra=st.dictionaries(texts.filter(lambda k: k and k != "csrf_token"), texts,
                             max_size=3))
def test_invoice_resend_form(owner, reliability, extra):
    # A re-send writes only its audit entry (Flask-Mail does not send while TESTING).
    response = owner.post(f"/admin/transaction/action/invoice/{owner.ids['transaction']}/",
                          extra, reliability, 2 * len(extra) or 1)
    assert response.status_code in (302, 400)
    owner.refused(response)  # takes the flash off the session
    owner.unchanged_unless(False)


def _choice_or(values):
    return st.one_of(st.sampled_from(values), texts, numbers)


SUBSCRIPTION_FORMS = {  # action -> its fields, each a known value or anything
    "subscription_price": {"amount": numbers, "effective": _choice_or(["next_renewal", "now"]),
                           "proration_date": numbers},
    "subscription_plan": {"plan": _choice_or(["1", "2"]), "proration_date": numbers,
                          "proration": _choice_or(["none", "create_prorations",
                                                   "always_invoice"])},
    "subscription_cancel": {"when": _choice_or(["period_end", "now"])},
    "subscription_affiliate": {"affiliate": _choice_or(["", "1"])},
    "subscription_pause": {"resumes_on": st.one_of(st.dates().map(str), texts)},
}


@settings(max_examples=150, **FAST)
@given(action=st.sampled_from(sorted(SUBSCRIPTION_FORMS)), data=st.data(),
       key=st.one_of(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), texts))
def test_subscription_forms(owner, reliability, action, data, key):
    # No gateway is configured: a change that needs one is refused before anything is written.
    form = {name: data.draw(strategy) for name, strategy in SUBSCRIPTION_FORMS[action].items()}
    response = owner.post(f"/admin/subscription/action/{action}/{owner.ids['subscription']}/",
                          {**form, "request_key": key}, reliability, len(form) + 1)
    owner.unchanged_unless(not owner.refused(response))


def _filter_keys(app, view):
    views = {v.endpoint: v for v in app.extensions["admin"][0]._views}
    return list(getattr(views[view], "_filter_args", None) or {}) or ["0"]


@settings(max_examples=300, **FAST)
@given(view=st.sampled_from(LIST_VIEWS), data=st.data())
def test_list_search_filter_sort_page_parameters(app, owner, reliability, view, data):
    params = data.draw(st.dictionaries(
        st.sampled_from(["search", "sort", "desc", "page", "page_size", "flt0", "flt1"]),
        st.one_of(numbers, texts), max_size=5))
    for name in [n for n in params if n.startswith("flt")]:
        key = data.draw(st.sampled_from(_filter_keys(app, view) + ["99", "x"]))
        params[f"{name}_{key}"] = params.pop(name)
    response = owner.client.get(f"/admin/{view}/", query_string=params)
    assert response.status_code in (200, 302, 400), (view, params, response.status_code)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/")
    reliability.count("fuzz", max(len(params), 1))
    reliability.count("fuzz_app")


@settings(max_examples=60, **FAST)
@given(tx_page=numbers, search=texts)
def test_profile_page_and_export_search(owner, reliability, tx_page, search):
    profile = owner.client.get(f"/admin/customer/profile/{owner.ids['customer']}/",
                               query_string={"tx_page": tx_page})
    assert profile.status_code in (200, 400)
    export = owner.client.get("/admin/customer/export/csv/", query_string={"search": search})
    assert export.status_code in (200, 400)
    if export.status_code == 200:
        assert export.get_data(as_text=True).startswith("Name,Email,")
    export.close()
    reliability.count("fuzz", 2)
    reliability.count("fuzz_app", 2)


def test_nothing_changed_after_the_list_and_export_fuzzing(owner):
    """GET requests never write: the tables are as sample_data() left them."""
    assert without_audit(snapshot()) == owner.tables


# --- Issue 20: a broad generator around each request of the second probe -------------------

@settings(max_examples=80, **FAST)
@given(user_id=st.one_of(st.integers(min_value=0, max_value=2 ** 80).map(str), texts),
       verb=st.sampled_from(["role", "active", "end-sessions", "password-link"]),
       role=st.one_of(st.sampled_from(["owner", "viewer"]), texts))
def test_admin_user_routes_with_any_id(owner, reliability, user_id, verb, role):
    from urllib.parse import quote
    response = owner.client.post(f"/admin/users/{quote(user_id, safe='')}/{verb}",
                                 data={"csrf_token": owner.token, "role": role, "active": "0"})
    assert response.status_code < 500, (user_id, verb)
    owner.refused(response)
    reliability.count("fuzz", 3)
    reliability.count("fuzz_app")


@settings(max_examples=80, **FAST)
@given(plan=numbers, kind=st.one_of(st.sampled_from(["plan", "price"]), texts),
       amount=numbers, effective=st.one_of(st.sampled_from(["now", "next_renewal"]), texts),
       rows_page=numbers)
def test_preview_and_job_page_parameters(owner, reliability, plan, kind, amount, effective,
                                         rows_page):
    preview = owner.client.get(f"/admin/subscription/preview/{owner.ids['subscription']}/",
                               query_string={"kind": kind, "plan": plan, "amount": amount,
                                             "effective": effective})
    assert preview.status_code in (200, 400, 404)
    assert "no-store" in preview.headers.get("Cache-Control", "")
    job_id = _a_job(owner)
    job = owner.client.get(f"/admin/jobs/job/{job_id}/", query_string={"rows_page": rows_page})
    assert job.status_code in (200, 400), (rows_page, job.status_code)
    status = owner.client.get(f"/admin/jobs/job/{job_id}/status.json")
    assert status.status_code == 200 and "no-store" in status.headers["Cache-Control"]
    reliability.count("fuzz", 5)
    reliability.count("fuzz_app", 3)


def _a_job(session):
    """A finished job of the session's admin (made once), whose pages the examples ask for."""
    if "job" not in session.ids:
        from models import AdminUser
        actor = db.session.scalar(select(AdminUser.id).where(AdminUser.role == "owner"))
        job = Job(actor_id=actor, action="refund_remaining", title="Refund",
                  scope={"view": "transaction", "ids": []}, params={}, state="done")
        db.session.add(job)
        db.session.commit()
        session.ids["job"] = job.id
        session.tables = without_audit(snapshot())
    return session.ids["job"]


@settings(max_examples=40, **FAST)
@given(url=st.one_of(texts, st.text(alphabet="/\\:.@%evilhtps \t\n\r\x0b?#09", max_size=20)),
       bulk=st.sampled_from(["/admin/transaction/bulk/refund_remaining/",
                             "/admin/subscription/bulk/cancel_subscription/",
                             "/admin/customer/bulk/resend_latest_invoice/"]))
def test_bulk_confirmation_return_url_for_a_refused_role(viewer, reliability, url, bulk):
    """Item 9: a role the bulk action is refused to is sent back, to this site only (a line
    break in `url` gave a 500 there)."""
    from tests.hardening.payloads import stays_on_site
    page = viewer.get(bulk, query_string={"ids": "1", "url": url})
    assert page.status_code in (200, 302, 400, 403, 404), (url, page.status_code)
    assert stays_on_site(page.headers.get("Location")), url
    back = re.search(r'href="([^"]*)"[^>]*>Go back', page.get_data(as_text=True))
    assert back is None or stays_on_site(back.group(1).replace("&amp;", "&")), url
    reliability.count("fuzz")
    reliability.count("fuzz_app")
    reliability.count("redirects")


@settings(max_examples=80, **FAST)
@given(url=st.one_of(texts, st.text(alphabet="/\\:.@%evilhtps \t\n\r\x0b?#09", max_size=20)),
       typed=numbers)
def test_bulk_confirmation_return_url_and_typed_count(owner, reliability, url, typed):
    from tests.hardening.payloads import stays_on_site
    bulk = "/admin/transaction/bulk/refund_remaining/"
    args = {"ids": str(owner.ids["transaction"]), "url": url}
    page = owner.client.get(bulk, query_string=args)
    assert page.status_code in (200, 302, 400)
    back = re.search(r'href="([^"]*)"[^>]*>Go back', page.get_data(as_text=True))
    assert back is None or stays_on_site(back.group(1).replace("&amp;", "&")), url
    assert stays_on_site(page.headers.get("Location"))
    posted = owner.client.post(bulk, query_string=args, data={
        "csrf_token": owner.token, "expected_count": "1", "typed_count": typed,
        "reason": "other", "request_key": "k" * 32})
    assert posted.status_code in (200, 302, 400)
    assert stays_on_site(posted.headers.get("Location"))
    if not typed.isascii() or typed.strip() != typed:
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    owner.refused(posted)
    reliability.count("fuzz", 2)
    reliability.count("fuzz_app", 2)


def _json_like():
    leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70),
                                                           max_value=2 ** 70),
                     st.floats(allow_nan=False), texts)
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)), max_leaves=8)


@settings(max_examples=120, **FAST)
@given(event_id=st.one_of(texts, st.text(min_size=250, max_size=300)), created=_json_like(),
       type_=st.one_of(st.just("customer.updated"), texts), data=_json_like(),
       depth=st.one_of(st.just(0), st.integers(min_value=1, max_value=3000)),
       skew=st.one_of(st.just(0), st.integers(min_value=-7200, max_value=7200)))
def test_signed_stripe_bodies(app, client, reliability, event_id, created, type_, data, depth,
                              skew):
    """Correctly signed Stripe bodies of any shape: 200 only for an event (then stored once),
    else 400 and nothing stored; never a 500."""
    import json
    import time

    from models import WebhookEvent
    from tests.fakes import stripe_events as se
    app.config.update(STRIPE_WEBHOOK_SECRET=se.SECRET)
    body = json.dumps({"id": event_id, "created": created, "type": type_,
                       "data": {"object": data}})
    if depth:
        body = body[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    before = db.session.query(WebhookEvent).count()
    response = client.post("/webhooks/stripe", data=body, content_type="application/json",
                           headers={"Stripe-Signature": se.sign(body,
                                                                timestamp=time.time() + skew)})
    assert response.status_code in (200, 400), response.status_code
    db.session.expire_all()
    stored = db.session.query(WebhookEvent).count() - before
    assert stored <= (1 if response.status_code == 200 else 0)
    # items 14, 15: an id past 255 characters and a signature beyond the 300 s tolerance
    # either way are refused (10 s of margin for the time the request takes)
    if len(event_id) > 255 or abs(skew) > 310 or depth >= 64:
        assert response.status_code == 400, (len(event_id), skew, depth)
    if not (type(created) is int and 1262304000 <= created <= 4102444800):
        assert response.status_code == 400, created
    reliability.count("fuzz", 5)
    reliability.count("fuzz_app")


@settings(max_examples=60, **FAST)
@given(body=st.one_of(_json_like().map(lambda v: __import__("json").dumps(v)), texts,
                      st.integers(min_value=1, max_value=60000).map(
                          lambda n: "[" * n + "]" * n)))
def test_unsigned_paypal_bodies(app, client, reliability, body):
    app.config.update(PAYPAL_WEBHOOK_ID="WH-TEST")
    response = client.post("/webhooks/paypal", data=body.encode("utf-8", "surrogatepass"),
                           content_type="application/json")
    assert response.status_code in (400, 413, 503), response.status_code
    reliability.count("fuzz")
    reliability.count("fuzz_app")
