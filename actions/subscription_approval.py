"""Check Approval: ask PayPal whether the customer approved the change waiting for them, and
record it once they have (PayPal answers a revise with a link the payer must follow)."""
from flask_wtf import FlaskForm
from sqlalchemy import select

from actions import audit
from actions.base import ActionResult, RowAction
from actions.errors import InvalidRequest
from actions.permissions import require
from actions.subscription_changes import (gateway_label, lock_subscription, offered, snapshot,
                                          summary)
from actions.subscription_plan import plan_ref
from models import Plan, SubscriptionChange, db


def check_approval(deps, actor, sub_id):
    """Apply the change awaiting the payer's approval if the gateway shows it approved."""
    require(actor, "change_subscription")
    sub = lock_subscription(sub_id)
    change = db.session.scalar(
        select(SubscriptionChange).where(SubscriptionChange.subscription_id == sub.id,
                                         SubscriptionChange.status == "awaiting_approval")
        .order_by(SubscriptionChange.id.desc()))
    if change is None or not sub.approval_url:
        raise InvalidRequest("No change of this subscription is waiting for the customer's "
                             "approval; nothing was changed.")
    state = deps.gateways(sub.gateway).get_subscription(sub.gateway_id)
    ask = change.params["ask"]
    plan = db.session.get(Plan, ask["plan_id"]) if change.kind == "plan" else None
    if plan is not None:
        approved = state.price_ref == plan_ref(plan, sub.gateway)
    else:
        approved = bool(state.raw.get("plan_overridden"))
    if not approved:
        db.session.rollback()
        return ActionResult(f"{gateway_label(sub)} says the customer has not approved the "
                            "change yet; it is still waiting.", "info")
    before = snapshot(sub)
    if plan is not None:
        sub.plan_id, sub.name, sub.price_cents = plan.id, plan.name, plan.price_cents
    else:
        sub.price_cents = ask["amount_cents"]
    sub.approval_url = None
    change.status, change.completed_at = "succeeded", deps.clock()
    audit.record(actor, f"subscription.{change.kind}", sub, outcome="succeeded",
                 gateway_ref=sub.gateway_id, before=before, after=snapshot(sub),
                 message="approved by the customer")
    db.session.commit()
    return ActionResult(f"The customer approved the change: the subscription now costs "
                        f"{deps.money(sub.price_cents, sub.currency)} per cycle"
                        + (f" on “{plan.name}”." if plan is not None else "."))


def _context(sub, deps):
    return {"summary": summary(sub, ("Approval link for the customer", sub.approval_url or "—"),
                               with_gateway=False),
            "consequences": [f"Asks {gateway_label(sub)} whether the customer approved the "
                             "change; if so, the new plan or price is recorded here. Nothing "
                             "is sent to the customer."]}


ACTION = RowAction(
    name="subscription_approval", title="Check Approval", icon="fa-refresh",
    permission="change_subscription", form=lambda sub, deps: FlaskForm(),
    perform=lambda sub, form, actor, deps: check_approval(deps, actor, sub.id),
    context=_context,
    submit_label="Ask PayPal",
    **offered("approval"))
