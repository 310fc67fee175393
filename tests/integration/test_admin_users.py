"""Issue 13: the Admin users page (owners): invite with a one-time link, role, deactivate,
end sessions; audited; refused on the server for every other role."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from actions import admin_users
from actions.deps import Deps
from actions.errors import InvalidRequest, NotAllowed
from models import AdminUser, AuditEvent, db
from tests.conftest import csrf_token, login, make_admin

PAGE = "/admin/users/"
LINK_RE = re.compile(r"http://localhost(/set-password/[A-Za-z0-9_\-]+)")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
DEPS = Deps(store_currency="USD", gateways=None, clock=lambda: NOW)


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/customer/"), **data})


def _invite(client, email="new@example.com", role="support"):
    response = _post(client, PAGE + "invite", email=email, role=role)
    assert response.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    match = LINK_RE.search(page)
    assert match, page
    return match.group(1)


def _user(email):
    db.session.expire_all()
    return db.session.scalar(select(AdminUser).where(AdminUser.email == email))


def _snapshot():
    db.session.expire_all()
    users = db.session.scalars(select(AdminUser).order_by(AdminUser.id)).all()
    return [(u.email, u.role, u.active, u.session_token, u.password_hash,
             u.password_link_digest) for u in users]


def _audits(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_owner_invites_and_the_link_sets_a_password_once(owner_client, app):
    link = _invite(owner_client)
    invited = _user("new@example.com")
    assert invited.role == "support" and not invited.password_set
    assert [e.after for e in _audits("invite_admin")] == [
        {"email": "new@example.com", "role": "support"}]

    guest = app.test_client()
    assert guest.get(link).status_code == 200
    short = guest.post(link, data={"password": "short", "confirm": "short",
                                   "csrf_token": csrf_token(guest, link)})
    assert short.status_code == 400 and "at least 10" in short.get_data(as_text=True)
    done = guest.post(link, data={"password": "a good long password",
                                  "confirm": "a good long password",
                                  "csrf_token": csrf_token(guest, link)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert guest.post("/login", data={"email": "new@example.com",
                                      "password": "a good long password",
                                      "csrf_token": csrf_token(guest)}).status_code == 302
    assert guest.get("/admin/customer/").status_code == 200
    # the link worked once
    again = app.test_client().get(link)
    assert again.status_code == 404 and "already used" in again.get_data(as_text=True)


def test_invited_user_cannot_log_in_before_choosing_a_password(owner_client, app):
    _invite(owner_client)
    other = app.test_client()
    response = other.post("/login", data={"email": "new@example.com", "password": "",
                                          "csrf_token": csrf_token(other)})
    assert response.status_code == 400


def test_the_link_expires(owner_client, app):
    link = _invite(owner_client)
    hours = app.config["PASSWORD_LINK_HOURS"]
    start = datetime.now(timezone.utc).timestamp()
    app.config["CLOCK"] = lambda: start + hours * 3600 + 60
    assert app.test_client().get(link).status_code == 404
    with pytest.raises(InvalidRequest, match="expired"):
        later = Deps(store_currency="USD", gateways=None,
                     clock=lambda: datetime.now(timezone.utc) + timedelta(hours=hours + 1))
        admin_users.set_password_from_link(link.rsplit("/", 1)[1], "a good long password",
                                           deps=later)
    assert not _user("new@example.com").password_set


def test_invite_is_mailed_when_mail_is_configured(owner_client, smtp_server):
    _invite(owner_client, "mailed@example.com", "viewer")
    [message] = smtp_server.messages
    assert message.rcpt_tos == ["mailed@example.com"]
    body = message.message.get_body(("plain",)).get_content()
    assert LINK_RE.search(body)


def test_invite_refuses_bad_and_duplicate_emails(owner_client):
    before = _snapshot()
    for email in ("not-an-address", "owner@example.com", "OWNER@EXAMPLE.COM"):
        _post(owner_client, PAGE + "invite", email=email, role="viewer")
    assert _snapshot() == before


def test_role_change_deactivation_and_reactivation(owner_client):
    target = make_admin("finance")
    _post(owner_client, f"{PAGE}{target.id}/role", role="viewer")
    assert _user("finance@example.com").role == "viewer"
    _post(owner_client, f"{PAGE}{target.id}/active", active="0")
    assert not _user("finance@example.com").active
    _post(owner_client, f"{PAGE}{target.id}/active", active="1")
    assert _user("finance@example.com").active
    [role_event] = _audits("change_admin_role")
    assert (role_event.before, role_event.after) == ({"role": "finance"}, {"role": "viewer"})
    assert len(_audits("deactivate_admin")) == len(_audits("reactivate_admin")) == 1


def test_last_active_owner_cannot_be_demoted_or_deactivated(owner_client):
    owner = _user("owner@example.com")
    before = _snapshot()
    _post(owner_client, f"{PAGE}{owner.id}/role", role="finance")
    _post(owner_client, f"{PAGE}{owner.id}/active", active="0")
    assert _snapshot() == before
    page = owner_client.get(PAGE).get_data(as_text=True)
    assert "last active owner" in page
    # with a second owner it works
    make_admin("owner", "second@example.com")
    _post(owner_client, f"{PAGE}{owner.id}/role", role="finance")
    assert _user("owner@example.com").role == "finance"


def test_deactivated_owner_does_not_count_as_an_owner(app):
    first = make_admin("owner", "first@example.com")
    second = make_admin("owner", "second@example.com")
    admin_users.set_active(first, second.id, False)
    with pytest.raises(InvalidRequest, match="last active owner"):
        admin_users.change_role(first, first.id, "viewer")


@pytest.mark.parametrize("role", ["finance", "support", "viewer"])
def test_other_roles_are_refused_on_the_server(client, role):
    victim = make_admin("owner", "boss@example.com")
    login(client, role)
    before = _snapshot()
    assert client.get(PAGE).status_code == 403
    for url, data in ((PAGE + "invite", {"email": "x@example.com", "role": "owner"}),
                      (f"{PAGE}{victim.id}/role", {"role": "viewer"}),
                      (f"{PAGE}{victim.id}/active", {"active": "0"}),
                      (f"{PAGE}{victim.id}/end-sessions", {}),
                      (f"{PAGE}{victim.id}/password-link", {})):
        assert _post(client, url, **data).status_code == 403, url
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["finance", "support", "viewer"])
def test_action_functions_check_manage_admins_themselves(app, role):
    actor = make_admin(role)
    victim = make_admin("owner", "boss@example.com")
    before = _snapshot()
    for call in (lambda: admin_users.invite(actor, "x@example.com", "owner", deps=DEPS,
                                            link_hours=1),
                 lambda: admin_users.change_role(actor, victim.id, "viewer"),
                 lambda: admin_users.set_active(actor, victim.id, False),
                 lambda: admin_users.end_sessions(actor, victim.id),
                 lambda: admin_users.new_password_link(actor, victim.id, deps=DEPS,
                                                       link_hours=1)):
        with pytest.raises(NotAllowed):
            call()
    assert _snapshot() == before
    denied = db.session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.outcome == "denied"))
    assert denied == 5


def test_forms_without_csrf_change_nothing(owner_client):
    target = make_admin("finance")
    before = _snapshot()
    owner_client.post(f"{PAGE}{target.id}/active", data={"active": "0"})
    owner_client.post(PAGE + "invite", data={"email": "x@example.com", "role": "owner"})
    assert _snapshot() == before


def test_end_sessions_logs_the_user_out(owner_client, app):
    other = app.test_client()
    target = login(other, "support")
    assert other.get("/admin/customer/").status_code == 200
    _post(owner_client, f"{PAGE}{target.id}/end-sessions")
    assert other.get("/admin/customer/").status_code == 302
    assert len(_audits("end_admin_sessions")) == 1


def test_new_link_voids_the_old_one(owner_client, app):
    first = _invite(owner_client)
    target = _user("new@example.com")
    _post(owner_client, f"{PAGE}{target.id}/password-link")
    second = LINK_RE.search(owner_client.get(PAGE).get_data(as_text=True)).group(1)
    assert first != second
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200


def test_menu_shows_admin_users_to_owners_only(client, app):
    login(client, "owner")
    assert "Admin users" in client.get("/admin/customer/").get_data(as_text=True)
    finance = app.test_client()
    login(finance, "finance")
    assert "Admin users" not in finance.get("/admin/customer/").get_data(as_text=True)


# Issue 21 item 14: one address rule for the invitation and create-admin; a refused form
# keeps what was typed; a role that may not edit is told so.

def test_invite_and_create_admin_follow_one_rule_for_private_domains(owner_client, app):
    _invite(owner_client, "NewHire@memberdesk.local", "finance")
    assert _user("newhire@memberdesk.local").role == "finance"
    result = app.test_cli_runner().invoke(args=["create-admin", "ops@memberdesk.local",
                                                "--password", "a long password"])
    assert result.exit_code == 0 and "ops@memberdesk.local" in result.output
    # both refuse what is no address, and the special-use names that are not private networks
    for email in ("ops@foo.invalid", "not-an-address"):
        before = _snapshot()
        refused = _post(owner_client, PAGE + "invite", email=email, role="viewer")
        assert refused.status_code == 400 and "cannot be used" in refused.get_data(as_text=True)
        result = app.test_cli_runner().invoke(args=["create-admin", email,
                                                    "--password", "a long password"])
        assert result.exit_code != 0 and "cannot be used" in result.output
        assert _snapshot() == before


@pytest.mark.parametrize("email, normalized", [
    ("newhire@memberdesk.local", "newhire@memberdesk.local"),
    ("Ops@LocalHost", "ops@localhost"), ("qa@staging.test", "qa@staging.test"),
    ("Boss@Example.com", "boss@example.com")])
def test_admin_email_accepts_private_networks_and_normalises(email, normalized):
    assert admin_users.admin_email(email) == normalized


@pytest.mark.parametrize("email", ["x@a.onion", "x@foo.invalid", "x@.local", "x y@memberdesk.local",
                                   "x@memberdesk..local", "@memberdesk.local", "x@"])
def test_admin_email_refuses_the_rest_with_the_librarys_reason(email):
    with pytest.raises(InvalidRequest, match="cannot be used: "):
        admin_users.admin_email(email)


def test_refused_invite_keeps_the_email_and_the_role(owner_client):
    make_admin("viewer", "taken@example.com")
    response = _post(owner_client, PAGE + "invite", email="taken@example.com", role="finance")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "taken@example.com already has an account" in page
    assert re.search(r'<input[^>]*name="email"[^>]*value="taken@example.com"', page) or \
        re.search(r'<input[^>]*value="taken@example.com"[^>]*name="email"', page), page
    assert re.search(r'<option selected value="finance">|<option value="finance" selected',
                     page), page


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_a_role_that_may_not_edit_customers_is_told_so(client, role):
    from tests import factories
    customer = factories.customer(name="Ada", email="ada@example.com")
    db.session.commit()
    login(client, role)
    response = client.get(f"/admin/customer/edit/?id={customer.id}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"You can&#39;t edit customers: your role ({role}) can only look at them" in page
