"""Issue 13, Proof: property-based inputs to every action form and every list parameter.

Never a 500; a refused request changes nothing (every table compared, the audit log only grows
by refusals). Counts go to docs/RELIABILITY.md (tests/reliability.py).
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
