"""Issue 13, Proof: every route × role × method from app.url_map against a table of rules,
and CSRF refused on every state-changing route. A route missing from the table fails."""
import pytest

from models.admin_user import ROLES as PERMISSIONS
from tests.conftest import csrf_token, login
from tests.hardening.routes import ROLES, admin_rules, concrete_url, sample_data
from tests.hardening.test_bad_input import snapshot

PUBLIC, OFF = "public", "off"  # anyone; a Flask-Admin feature switched off (back to the list)
CATALOG = ("plan", "affiliate")
VIEW_PERMISSION = {"customer": "view", "transaction": "view", "subscription": "view",
                   "plan": "view", "affiliate": "view", "audit": "view_audit",
                   "audit_sign_ins": "view_audit", "jobs": "view",
                   "webhook_event": "webhooks"}
# Authenticated by the gateway's signature, not by a login or a CSRF token; an unsigned or
# badly signed request is refused (tests/integration/test_webhooks_*.py).
SIGNED = {"webhooks.stripe_webhook", "webhooks.paypal_webhook"}


def rule_for(app, endpoint, method, action_name=None):
    """What a request needs: a permission name, PUBLIC, OFF; None = no rule (test fails)."""
    fixed = {("static", "GET"): PUBLIC, ("admin.static", "GET"): PUBLIC,
             ("auth.login", "GET"): PUBLIC, ("auth.login", "POST"): PUBLIC,
             ("auth.root", "GET"): PUBLIC, ("auth.logout", "POST"): PUBLIC,
             ("favicon", "GET"): PUBLIC,
             ("auth.set_password", "GET"): PUBLIC, ("auth.set_password", "POST"): PUBLIC,
             ("auth.change_password", "GET"): "view", ("auth.change_password", "POST"): "view",
             ("admin.index", "GET"): "view", ("drift.index", "GET"): "view",
             ("admin.mrr_json", "GET"): "view",
             **{(endpoint, "POST"): PUBLIC for endpoint in SIGNED}}
    if endpoint in {e for e, _ in fixed}:
        return fixed.get((endpoint, method))
    view, name = endpoint.split(".", 1)
    if view in ("admin_users", "outbox", "sandbox"):  # owners only
        return "manage_admins"
    if view not in VIEW_PERMISSION:
        return None
    base = VIEW_PERMISSION[view]
    if name == "row_action_view":
        from actions import get_action
        try:
            action = get_action(action_name)
        except KeyError:
            return base  # unknown action name: 404 for whoever may see the view
        return action.submit_needs() if method == "POST" else action.permission
    if name == "bulk_confirm":  # the view's first bulk action (routes.concrete_url)
        from actions.bulk import BULK_ACTIONS
        views = {v.endpoint: v for v in app.extensions["admin"][0]._views}
        return BULK_ACTIONS[views[view].bulk_actions[0]].permission
    table = {
        ("index_view", "GET"): base, ("details_view", "GET"): OFF,
        ("action_view", "POST"): base, ("delete_view", "POST"): OFF,
        ("ajax_lookup", "GET"): base, ("ajax_update", "POST"): base,
        ("create_view", "GET"): "manage_catalog" if view in CATALOG else OFF,
        ("create_view", "POST"): "manage_catalog" if view in CATALOG else OFF,
        ("edit_view", "GET"): {"customer": "edit_customer"}.get(
            view, "manage_catalog" if view in CATALOG else OFF),
        ("export", "GET"): "export" if view == "customer" else OFF,
        ("profile_view", "GET"): base if view == "customer" else None,
        ("avatar_view", "GET"): base if view == "customer" else None,
        # the profile's Timeline tab, and its internal-note form (support and above)
        ("timeline_view", "GET"): base if view == "customer" else None,
        ("note_view", "POST"): "add_note" if view == "customer" else None,
        # the avatar kept from a refused Edit customer form: to those who may edit
        ("kept_avatar_view", "GET"): "edit_customer" if view == "customer" else None,
        # which optional columns of the customers list this admin sees (their session only)
        ("columns_view", "POST"): base if view == "customer" else None,
        # the price/plan preview answers JSON (an error message for a role that may not change)
        ("preview_view", "GET"): base if view == "subscription" else None,
        # Download PDF of an invoice: whoever may see payments; the refund pop-up's preview
        # answers JSON (the refusal's message for a role that may not refund)
        ("invoice_pdf_view", "GET"): base if view == "transaction" else None,
        ("refund_preview_view", "GET"): base if view == "transaction" else None,
        # Jobs: a job page of a job one may not see is a 404 like a missing one
        ("job_view", "GET"): base if view == "jobs" else None,
        ("status_view", "GET"): base if view == "jobs" else None,
        ("retry_view", "POST"): base if view == "jobs" else None,
        ("download_view", "GET"): base if view == "jobs" else None,
    }
    table[("edit_view", "POST")] = table[("edit_view", "GET")]
    return table.get((name, method))


def cases(app, ids):
    """(rule, method, url, action name) for every rule, method and row action of the app."""
    views = {v.endpoint: v for v in app.extensions["admin"][0]._views}
    for rule, method in admin_rules(app):
        if "action_name" in rule.arguments:
            view = views[rule.endpoint.split(".")[0]]
            for name in list(getattr(view, "row_actions", ())) + ["nosuch"]:
                yield rule, method, concrete_url(app, rule, ids, name)[0], name
        else:
            yield rule, method, concrete_url(app, rule, ids)[0], None


def verdict(response, needed, role):
    """'allowed', 'denied', 'login' or 'off' from a response (5xx is a failure)."""
    assert response.status_code < 500
    if needed == PUBLIC:
        return "allowed" if response.status_code != 403 else "denied"
    location = response.headers.get("Location", "")
    if response.status_code == 403:
        return "denied"
    if response.status_code == 302 and "/login" in location:
        return "login"
    if needed not in (PUBLIC, OFF) and role and not PERMISSIONS[role] & {needed} \
            and response.status_code == 302:
        return "denied"  # a refused row-action POST: flash + back to the list
    if needed == OFF and response.status_code == 302:
        return "off"
    return "allowed"


def expected(needed, role, endpoint):
    if needed == PUBLIC:
        return "allowed"
    if role is None:
        return "login"
    if needed == OFF:  # switched off for those who may open the view, refused for the others
        base = VIEW_PERMISSION.get(endpoint.split(".")[0], "view")
        return "off" if base in PERMISSIONS[role] else "denied"
    return "allowed" if needed in PERMISSIONS[role] else "denied"


def business(tables):
    return {name: rows for name, rows in tables.items()
            if name not in ("audit_event", "admin_user")}


def test_every_route_has_a_rule(app):
    ids = {"customer": 1, "transaction": 1, "subscription": 1, "plan": 1, "affiliate": 1,
           "admin_users": 1}
    missing = [(r.endpoint, m, n) for r, m, _, n in cases(app, ids)
               if rule_for(app, r.endpoint, m, n) is None]
    assert not missing, f"routes without a rule in test_route_matrix: {missing}"


@pytest.mark.parametrize("role", (None,) + ROLES)
def test_routes_roles_methods(app, client, role, reliability):
    ids = sample_data()
    if role:
        login(client, role)
    token = csrf_token(client, "/login")
    before, checked = snapshot(), 0
    for rule, method, url, name in cases(app, ids):
        needed = rule_for(app, rule.endpoint, method, name)
        if needed is None or rule.endpoint == "auth.logout":
            continue
        response = client.open(url, method=method, data={"csrf_token": token}
                               if method == "POST" else None)
        response.get_data()
        response.close()  # streamed downloads hold their request context until closed
        if rule.endpoint in SIGNED:  # unsigned: refused (503 while no secret is configured)
            assert response.status_code in (400, 503), (url, response.status_code)
            checked += 1
            continue
        got = verdict(response, needed, role)
        want = expected(needed, role, rule.endpoint)
        assert got == want, (role, method, url, needed, response.status_code)
        checked += 1
    # Refused POSTs are audited, and an owner's empty POSTs to the admin-users page may end a
    # session: the business tables are what must not change.
    assert business(snapshot()) == business(before)
    reliability.count("routes", checked)


def test_post_without_or_with_a_wrong_csrf_token_is_refused_everywhere(app, client,
                                                                       reliability):
    ids = sample_data()
    login(client, "owner")
    before, checked = snapshot(), 0
    for rule, method, url, _name in cases(app, ids):
        if method != "POST" or rule.endpoint in SIGNED:
            continue
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf_token(client, "/login")
                                                    + "x"}):
            response = client.post(url, data=data)
            assert response.status_code == 400, (url, data, response.status_code)
            assert "expired or did not come from Memberdesk" in response.get_data(as_text=True)
            checked += 1
    assert snapshot() == before
    assert client.get("/admin/customer/").status_code == 200  # still logged in
    reliability.count("csrf", checked)
