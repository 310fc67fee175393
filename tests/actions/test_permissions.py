"""Every action function checks its own permission, whoever calls it (a view, a job, the CLI):
each role is refused with a message naming its role and nothing changes (our tables, the
gateway, the outbox); a role that has the permission gets the action done."""
import json
from types import SimpleNamespace

import pytest

from actions import admin_users, catalog
from actions.affiliate import set_sale_affiliate
from actions.bulk.cancel_subscription import cancel_row
from actions.bulk.change_subscription_price import price_row
from actions.bulk.refund_remaining import refund_remaining_row
from actions.bulk.resend_latest_invoice import resend_latest_invoice_row
from actions.bulk.set_subscription_affiliate import affiliate_row
from actions.customer_details import update_customer
from actions.customer_notes import add_note
from actions.errors import GatewayUnavailable, NotAllowed
from actions.export import customers_query, export_customers, export_scope
from actions.invoice import resend_invoice
from actions.refund import check_refund, refund_transaction
from actions.subscription_affiliate import set_subscription_affiliate
from actions.subscription_approval import check_approval, withdraw_change
from actions.subscription_cancel import cancel_subscription, undo_cancel
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.subscription_plan import change_subscription_plan
from actions.subscription_preview import preview_subscription_change
from actions.subscription_price import change_subscription_price
from actions.sync.events import reprocess
from models import AdminUser, ROLES, WebhookEvent, db
from models.customer import DETAIL_FIELDS
from tests import factories
from tests.actions.support import (nothing_changes, other_plan, paid, refunds_of, subscribed,
                                   tables)

#: name -> (permission, changes something when allowed, setup(ctx) -> call(actor))
CASES = {}


def case(name, permission, changes=True):
    def register(setup):
        CASES[name] = (permission, changes, setup)
        return setup
    return register


@case("refund", "refund")
def _(ctx):
    tx = paid(ctx.gateways)
    return lambda actor: refund_transaction(ctx.deps, actor, tx.id, 2500, "duplicate",
                                            request_key="form-1")


@case("check_refund", "refund")
def _(ctx):
    tx = paid(ctx.gateways)
    ctx.gateways["stripe"].fail_next("timeout")
    with pytest.raises(GatewayUnavailable):
        refund_transaction(ctx.deps, ctx.actors["owner"], tx.id, 2500, "duplicate")
    refund = refunds_of(tx.id)[0]
    return lambda actor: check_refund(ctx.deps, actor, refund.id)


@case("resend_invoice", "resend_invoice")
def _(ctx):
    tx = paid(ctx.gateways)
    return lambda actor: resend_invoice(ctx.deps, actor, tx.id)


@case("edit_sale_affiliate", "edit_affiliate")
def _(ctx):
    tx, partner = paid(ctx.gateways), factories.affiliate()
    db.session.commit()
    return lambda actor: set_sale_affiliate(ctx.deps, actor, tx.id, partner.id, 1000)


@case("edit_customer", "edit_customer")
def _(ctx):
    customer = factories.customer()
    db.session.commit()
    details = {key: getattr(customer, key) for key, _label in DETAIL_FIELDS}
    details["name"] = "Renamed Customer"
    return lambda actor: update_customer(ctx.deps, actor, customer.id, details)


@case("customer_note", "add_note")
def _(ctx):
    customer = factories.customer()
    db.session.commit()
    return lambda actor: add_note(actor, customer.id, "Prefers e-mail to phone calls.")


@case("subscription_price", "change_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways)
    return lambda actor: change_subscription_price(ctx.deps, actor, sub.id, 5900)


@case("subscription_plan", "change_subscription")
def _(ctx):
    sub, plus = subscribed(ctx.gateways), other_plan()
    return lambda actor: change_subscription_plan(ctx.deps, actor, sub.id, plus.id)


@case("subscription_preview", "change_subscription", changes=False)
def _(ctx):
    sub = subscribed(ctx.gateways)
    return lambda actor: preview_subscription_change(ctx.deps, actor, sub.id,
                                                     amount_cents=5900, effective="now")


@case("subscription_affiliate", "edit_affiliate")
def _(ctx):
    sub, partner = subscribed(ctx.gateways), factories.affiliate()
    db.session.commit()
    return lambda actor: set_subscription_affiliate(ctx.deps, actor, sub.id, partner.id)


@case("subscription_cancel", "cancel_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways)
    return lambda actor: cancel_subscription(ctx.deps, actor, sub.id)


@case("subscription_undo_cancel", "cancel_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways)
    cancel_subscription(ctx.deps, ctx.actors["owner"], sub.id, when="period_end")
    return lambda actor: undo_cancel(ctx.deps, actor, sub.id)


@case("subscription_pause", "change_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways)
    return lambda actor: pause_subscription(ctx.deps, actor, sub.id)


@case("subscription_resume", "change_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways)
    pause_subscription(ctx.deps, ctx.actors["owner"], sub.id)
    return lambda actor: resume_subscription(ctx.deps, actor, sub.id)


@case("subscription_approval", "change_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways, gateway="paypal")
    ctx.gateways["paypal"].needs_approval = True
    change_subscription_price(ctx.deps, ctx.actors["owner"], sub.id, 5900)
    ctx.gateways["paypal"].approve(sub.gateway_id)
    return lambda actor: check_approval(ctx.deps, actor, sub.id)


@case("subscription_withdraw", "change_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways, gateway="paypal")
    ctx.gateways["paypal"].needs_approval = True
    change_subscription_price(ctx.deps, ctx.actors["owner"], sub.id, 5900)
    return lambda actor: withdraw_change(ctx.deps, actor, sub.id)


PLAN_FIELDS = {"name": "Gold", "price": "19.00", "currency": "USD", "interval": "month",
               "interval_count": 1, "active": True}
AFFILIATE_FIELDS = {"name": "Ann", "email": "ann@example.com", "commission_percent": "12.5"}


@case("create_plan", "manage_catalog")
def _(ctx):
    return lambda actor: catalog.create_plan(ctx.deps, actor, PLAN_FIELDS)


@case("update_plan", "manage_catalog")
def _(ctx):
    plan = factories.plan()
    db.session.commit()
    return lambda actor: catalog.update_plan(ctx.deps, actor, plan.id, PLAN_FIELDS)


@case("create_affiliate", "manage_catalog")
def _(ctx):
    return lambda actor: catalog.create_affiliate(ctx.deps, actor, AFFILIATE_FIELDS)


@case("update_affiliate", "manage_catalog")
def _(ctx):
    partner = factories.affiliate()
    db.session.commit()
    return lambda actor: catalog.update_affiliate(ctx.deps, actor, partner.id, AFFILIATE_FIELDS)


def _colleague():
    user = AdminUser(email="colleague@example.com", role="viewer", password_hash="not-used")
    db.session.add(user)
    db.session.commit()
    return user


@case("invite_admin", "manage_admins")
def _(ctx):
    return lambda actor: admin_users.invite(actor, "new@example.com", "support",
                                            deps=ctx.deps, link_hours=24)


@case("password_link", "manage_admins")
def _(ctx):
    user = _colleague()
    return lambda actor: admin_users.new_password_link(actor, user.id, deps=ctx.deps,
                                                       link_hours=24)


@case("change_admin_role", "manage_admins")
def _(ctx):
    user = _colleague()
    return lambda actor: admin_users.change_role(actor, user.id, "finance")


@case("deactivate_admin", "manage_admins")
def _(ctx):
    user = _colleague()
    return lambda actor: admin_users.set_active(actor, user.id, False)


@case("end_admin_sessions", "manage_admins")
def _(ctx):
    user = _colleague()
    return lambda actor: admin_users.end_sessions(actor, user.id)


@case("export_customers", "export", changes=False)
def _(ctx):
    factories.customer(email="exported@example.com")
    db.session.commit()
    return lambda actor: "".join(export_customers(customers_query(), export_scope(), actor,
                                                  "USD"))


@case("webhook_reprocess", "webhooks")
def _(ctx):
    event = WebhookEvent(gateway="stripe", event_id="evt_1", event_type="customer.unknown",
                         payload=json.dumps({"id": "evt_1"}), status="failed", attempts=5,
                         occurred_at=ctx.clock(), received_at=ctx.clock())
    db.session.add(event)
    db.session.commit()
    return lambda actor: reprocess(ctx.deps, actor, event.id)


@case("bulk_refund_remaining", "refund")
def _(ctx):
    tx = paid(ctx.gateways)
    return lambda actor: refund_remaining_row(ctx.deps, actor, tx.id, {"reason": "other"},
                                              "job:1:row:1")


@case("bulk_resend_latest_invoice", "resend_invoice")
def _(ctx):
    tx = paid(ctx.gateways)
    return lambda actor: resend_latest_invoice_row(ctx.deps, actor, tx.customer_id, {},
                                                   "job:1:row:1")


@case("bulk_cancel", "cancel_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways)
    return lambda actor: cancel_row(ctx.deps, actor, sub.id, {"when": "period_end"},
                                    "job:1:row:1")


@case("bulk_affiliate", "edit_affiliate")
def _(ctx):
    sub, partner = subscribed(ctx.gateways), factories.affiliate()
    db.session.commit()
    return lambda actor: affiliate_row(ctx.deps, actor, sub.id, {"affiliate_id": partner.id},
                                       "job:1:row:1")


@case("bulk_price", "change_subscription")
def _(ctx):
    sub = subscribed(ctx.gateways)
    return lambda actor: price_row(ctx.deps, actor, sub.id,
                                   {"amount_cents": 5900, "currency": "USD"}, "job:1:row:1")


@pytest.fixture
def ctx(gateways, deps, actors, clock, outbox):
    return SimpleNamespace(gateways=gateways, deps=deps, actors=actors, clock=clock,
                           outbox=outbox)


REFUSED = [(name, role) for name, (permission, _c, _s) in CASES.items()
           for role in [*ROLES, "inactive"]
           if role == "inactive" or permission not in ROLES[role]]
ALLOWED = [(name, role) for name, (permission, _c, _s) in CASES.items()
           for role in ROLES if permission in ROLES[role]]


@pytest.mark.parametrize(("name", "role"), REFUSED, ids=[f"{n}-{r}" for n, r in REFUSED])
def test_a_role_without_the_permission_is_refused_and_nothing_changes(ctx, name, role):
    permission, _changes, setup = CASES[name]
    call = setup(ctx)
    actor = ctx.actors[role]
    shown = "owner" if role == "inactive" else role
    with nothing_changes(ctx.gateways, ctx.outbox):
        with pytest.raises(NotAllowed) as refused:
            call(actor)
    assert refused.value.message == (f"Your role ({shown}) does not allow this "
                                     f"({permission.replace('_', ' ')}); nothing was changed.")


@pytest.mark.parametrize(("name", "role"), ALLOWED, ids=[f"{n}-{r}" for n, r in ALLOWED])
def test_a_role_with_the_permission_gets_it_done(ctx, name, role):
    _permission, changes, setup = CASES[name]
    call = setup(ctx)
    before, mails = tables(), len(ctx.outbox)
    result = call(ctx.actors[role])
    assert result is not None
    assert getattr(result, "category", "success") in ("success", "info")
    assert getattr(result, "state", "done") == "done"
    if changes:  # a row written, or (invoice) the mail sent
        assert tables() != before or len(ctx.outbox) > mails, f"{name} by {role} did nothing"


def test_every_action_function_is_in_the_matrix():
    """A new row action or bulk action must join the matrix above."""
    from actions import ROW_ACTIONS
    from actions.bulk import BULK_ACTIONS
    row = {"invoice": "resend_invoice", "refund": "refund", "check_refund": "check_refund",
           "affiliate": "edit_sale_affiliate", "webhook_reprocess": "webhook_reprocess"}
    bulk = {"refund_remaining": "bulk_refund_remaining",
            "resend_latest_invoice": "bulk_resend_latest_invoice",
            "cancel_subscription": "bulk_cancel", "set_subscription_affiliate": "bulk_affiliate",
            "change_subscription_price": "bulk_price"}
    for name in ROW_ACTIONS:
        assert row.get(name, name) in CASES, f"row action {name} has no permission case"
    for name, action in BULK_ACTIONS.items():
        if action.run_row is not None:
            assert bulk.get(name) in CASES, f"bulk action {name} has no permission case"
