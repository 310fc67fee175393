"""Every URL rule of the app as a concrete URL, with the ids of a small data set."""
import re

from models import db
from tests import factories
from tests.conftest import make_admin

ROLES = ("owner", "finance", "support", "viewer")


def sample_data():
    """One customer with a payment, a subscription, a plan and an affiliate; their ids."""
    aff = factories.affiliate(name="Aff One")
    customer = factories.customer(name="Rita Route", email="rita@example.com")
    tx = factories.payment(customer, 5000)
    plan = factories.plan()
    sub = factories.subscription(customer, plan)
    db.session.commit()
    target = make_admin("viewer", "target@example.com")  # the admin the users page acts on
    return {"customer": customer.id, "transaction": tx.id, "subscription": sub.id,
            "plan": plan.id, "affiliate": aff.id, "audit": 1, "admin_users": target.id}


def concrete_url(app, rule, ids, action_name=None):
    """The rule's path with sample arguments, and the record id its view works on."""
    view = rule.endpoint.split(".")[0]
    obj_id = ids.get(view, 1)
    values = {"customer_id": ids["customer"], "obj_id": obj_id, "export_type": "csv",
              "filename": "css/x.css", "user_id": ids["admin_users"], "token": "not-a-token",
              "index": 0, "what": "advance"}
    if "bulk_name" in rule.arguments:
        views = {v.endpoint: v for v in app.extensions["admin"][0]._views}
        values["bulk_name"] = views[view].bulk_actions[0]
    values["job_id"] = ids.get("jobs", 1)
    values["sub_id"] = ids.get("subscription", 1)
    values["tx_id"] = ids["transaction"]
    if "action_name" in rule.arguments:
        views = {v.endpoint: v for v in app.extensions["admin"][0]._views}
        names = list(getattr(views[view], "row_actions", ())) or ["nosuch"]
        values["action_name"] = action_name or names[0]
    if view == "outbox":
        values["filename"] = "message.eml"
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{arg}>", str(values[arg]), path)
    return path, obj_id


def admin_rules(app):
    """(rule, method) for every rule and method it answers (HEAD/OPTIONS left out)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method
