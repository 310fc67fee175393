"""Catalog: owners manage plans and affiliates through Flask-Admin's forms (with CSRF); the
action functions in actions/catalog.py validate, audit and save."""
import pytest
from sqlalchemy import select

from actions.catalog import create_affiliate, create_plan, update_plan
from actions.errors import InvalidRequest, NotAllowed
from admin_app.composition import deps_from_app
from models import Affiliate, AuditEvent, Plan, db
from tests.conftest import csrf_token, login, make_admin

PLAN = {"name": "Pro Monthly", "price": "19.99", "currency": "usd", "interval": "month",
        "interval_count": "1", "stripe_price_id": "price_123", "paypal_plan_id": "",
        "active": "y"}


def _post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def _audit(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_owner_creates_an_affiliate_with_a_percentage(client):
    owner = login(client, "owner")
    response = _post(client, "/admin/affiliate/new/", {
        "name": "Podcast Partner", "email": "Pod@Example.com", "commission_percent": "12.5"})
    assert response.status_code == 302
    affiliate = db.session.scalar(select(Affiliate))
    assert (affiliate.email, affiliate.commission_rate_bp) == ("pod@example.com", 1250)
    [entry] = _audit("affiliate.create")
    assert entry.actor_id == owner.id and entry.target_id == affiliate.id
    assert entry.after == {"name": "Podcast Partner", "email": "pod@example.com",
                           "commission_rate_bp": 1250}
    assert "12.5 %" in client.get("/admin/affiliate/").get_data(as_text=True)


@pytest.mark.parametrize("percent, message", [
    ("100.01", "between 0 and 100 %"), ("-1", "between 0 and 100 %"),
    ("12.345", "at most two decimals"), ("ten", "is not a percentage")])
def test_bad_commission_rates_are_refused_with_a_clear_message(client, percent, message):
    login(client, "owner")
    page = _post(client, "/admin/affiliate/new/", {
        "name": "Greedy", "email": "g@example.com", "commission_percent": percent}
    ).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(Affiliate)) is None and not _audit("affiliate.create")


def test_an_email_can_belong_to_one_affiliate_only(client):
    login(client, "owner")
    _post(client, "/admin/affiliate/new/", {
        "name": "First", "email": "same@example.com", "commission_percent": "10"})
    page = _post(client, "/admin/affiliate/new/", {
        "name": "Second", "email": "SAME@example.com", "commission_percent": "10"}
    ).get_data(as_text=True)
    assert "same@example.com is already the email of the affiliate First" in page
    assert [a.name for a in db.session.scalars(select(Affiliate))] == ["First"]


def test_owner_edits_an_affiliate_and_the_audit_keeps_before_and_after(client):
    login(client, "owner")
    _post(client, "/admin/affiliate/new/", {
        "name": "Blog", "email": "blog@example.com", "commission_percent": "10"})
    affiliate_id = db.session.scalar(select(Affiliate.id))
    url = f"/admin/affiliate/edit/?id={affiliate_id}"
    assert 'value="10"' in client.get(url).get_data(as_text=True)  # the percentage, prefilled
    response = _post(client, url, {"name": "Blog", "email": "blog@example.com",
                                   "commission_percent": "7.25"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Affiliate, affiliate_id).commission_rate_bp == 725
    [entry] = _audit("affiliate.update")
    assert (entry.before, entry.after) == ({"commission_rate_bp": 1000},
                                           {"commission_rate_bp": 725})


def test_owner_creates_a_plan_with_a_price_in_its_currency(client):
    login(client, "owner")
    assert _post(client, "/admin/plan/new/", PLAN).status_code == 302
    plan = db.session.scalar(select(Plan))
    assert (plan.price_cents, plan.currency, plan.paypal_plan_id) == (1999, "USD", None)
    [entry] = _audit("plan.create")
    assert entry.after["price_cents"] == 1999 and entry.target_id == plan.id
    assert "$19.99" in client.get("/admin/plan/").get_data(as_text=True)


@pytest.mark.parametrize("change, message", [
    ({"currency": "ABC"}, "is not an ISO currency code"),
    ({"price": "-5"}, "cannot be negative"),
    ({"price": "12.50", "currency": "JPY"}, "JPY amounts have at most 0 decimal places"),
    ({"price": "abc"}, "is not an amount"),
    ({"interval_count": "37"}, "Bill every 1 to 36"),
    ({"interval_count": "0"}, "Bill every 1 to 36")])
def test_plan_limits_are_refused_with_a_clear_message(client, change, message):
    login(client, "owner")
    page = _post(client, "/admin/plan/new/", {**PLAN, **change}).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(Plan)) is None and not _audit("plan.create")


def test_owner_edits_a_plan_price_shown_as_an_amount(client):
    login(client, "owner")
    _post(client, "/admin/plan/new/", {**PLAN, "currency": "EUR", "price": "49"})
    plan_id = db.session.scalar(select(Plan.id))
    url = f"/admin/plan/edit/?id={plan_id}"
    assert 'value="49.00"' in client.get(url).get_data(as_text=True)
    assert _post(client, url, {**PLAN, "currency": "EUR", "price": "54.90"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Plan, plan_id).price_cents == 5490
    [entry] = _audit("plan.update")
    assert (entry.before, entry.after) == ({"price_cents": 4900}, {"price_cents": 5490})


@pytest.mark.parametrize("role", ["finance", "support", "viewer"])
def test_other_roles_cannot_edit_the_catalog(app, client, role):
    """The forms are hidden and refused; the action functions refuse on their own too."""
    user = login(client, role)
    assert client.get("/admin/affiliate/new/").status_code == 302
    assert "/admin/affiliate/new/" not in client.get("/admin/affiliate/").get_data(True)
    client.post("/admin/plan/new/", data={**PLAN, "csrf_token": csrf_token(client)})
    assert db.session.scalar(select(Plan)) is None
    deps = deps_from_app(app)
    with pytest.raises(NotAllowed):
        create_plan(deps, user, {**PLAN, "interval_count": 1})
    with pytest.raises(NotAllowed):
        create_affiliate(deps, user, {"name": "X", "email": "x@example.com",
                                      "commission_percent": "5"})
    assert db.session.scalar(select(Plan)) is None and db.session.scalar(select(Affiliate)) is None


def test_update_of_a_plan_that_is_gone_is_refused(app):
    owner = make_admin("owner")
    with pytest.raises(InvalidRequest, match="This plan no longer exists"):
        update_plan(deps_from_app(app), owner, 999, {**PLAN, "interval_count": 1})


@pytest.mark.parametrize("role, status", [("owner", 200), ("finance", 200), ("support", 403),
                                          ("viewer", 403)])
def test_audit_log_is_readable_by_owner_and_finance(client, role, status):
    login(client, role)
    assert client.get("/admin/audit/").status_code == status
    assert ('href="/admin/audit/"' in client.get("/admin/customer/").get_data(True)) == (
        status == 200)
