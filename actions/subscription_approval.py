"""Check Approval: ask PayPal whether the customer approved the change waiting for them, and
record it once they have (PayPal answers a revise with a link the payer must follow)."""
from flask_wtf import FlaskForm

from actions import audit
from actions.base import ActionResult, RowAction
from actions.errors import InvalidRequest
from actions.permissions import require
from actions.gateways.base import SubscriptionResult
from actions.subscription_changes import (answered_amount, awaiting_change, expires_at,
                                          gateway_label, lock_subscription, offered,
                                          require_applies, snapshot, summary)
from actions.subscription_plan import plan_ref
from models import Plan, Subscription, db


def approved(change, sub, state):
    """Whether the gateway's subscription shows exactly this change: the plan asked for
    (with no price of its own), or the price asked for as the price in force."""
    ask = change.params["ask"]
    if change.kind == "plan":
        plan = db.session.get(Plan, ask["plan_id"])
        return state.price_ref == plan_ref(plan, sub.gateway) and \
            not state.raw.get("plan_overridden")
    return (state.amount_cents == ask["amount_cents"]
            and (state.currency or sub.currency).upper() == sub.currency.upper())


def _waiting(deps, actor, sub_id, doing):
    """The subscription and its change waiting for the payer, read at the gateway with no
    lock held, then locked and checked again: (sub, change, the gateway's state). A change
    no longer waiting by then (a webhook or another admin recorded it) is refused."""
    require(actor, "change_subscription")
    sub = db.session.get(Subscription, sub_id, populate_existing=True)
    if sub is None:
        raise InvalidRequest("This subscription no longer exists.")
    try:
        waiting_id = _awaiting_id(deps, sub, doing)
        gateway, ref = deps.gateways(sub.gateway), sub.gateway_id
    finally:
        db.session.rollback()  # the transaction ends before the gateway is asked
    state = gateway.get_subscription(ref)
    sub = lock_subscription(sub_id)
    if _awaiting_id(deps, sub, doing) != waiting_id:  # another change waits now
        raise InvalidRequest("The change waiting for the customer's approval changed while "
                             f"{gateway_label(sub)} was being asked; open it again. Nothing "
                             "was changed.")
    return sub, awaiting_change(sub), state


def _awaiting_id(deps, sub, doing):
    change = awaiting_change(sub)
    if change is None or not sub.approval_url:
        raise InvalidRequest("No change of this subscription is waiting for the customer's "
                             f"approval; {doing}")
    require_applies(sub, "approval", deps.clock())
    return change.id


def check_approval(deps, actor, sub_id):
    """Record the change awaiting the payer once the gateway shows exactly it; let it lapse
    after APPROVAL_EXPIRY."""
    sub, change, state = _waiting(deps, actor, sub_id, "nothing was changed.")
    now = deps.clock()
    if approved(change, sub, state):
        return _record_approval(deps, actor, sub, change, state, now)
    if now >= expires_at(change):
        message = (f"The change waited for the customer's approval since "
                   f"{deps.day(change.created_at)} and has lapsed: nothing changed, and its "
                   "link should not be used. You can make a new change.")
        _close(actor, sub, change, "expired", now, message)
        return ActionResult(message, "warning")
    db.session.rollback()
    return ActionResult(f"{gateway_label(sub)} says the customer has not approved the "
                        "change yet; it is still waiting (until "
                        f"{deps.day(expires_at(change))}).", "info")


def withdraw_change(deps, actor, sub_id):
    """Withdraw the change awaiting the payer (recorded as approved instead if the gateway
    shows it approved already)."""
    sub, change, state = _waiting(deps, actor, sub_id, "there is nothing to withdraw.")
    now = deps.clock()
    if approved(change, sub, state):
        return _record_approval(deps, actor, sub, change, state, now)
    message = (f"The change is withdrawn: the subscription stays at "
               f"{deps.money(sub.price_cents, sub.currency)} per cycle. Do not send its "
               f"link; {gateway_label(sub)} offers no way to cancel it, so if the customer "
               "still approves it, the webhook brings the change here.")
    _close(actor, sub, change, "withdrawn", now, message)
    return ActionResult(message)


def _close(actor, sub, change, status, now, message):
    before = snapshot(sub)
    change.status, change.completed_at = status, now
    sub.approval_url = None
    audit.record(actor, f"subscription.{change.kind}", sub, outcome="failed",
                 gateway_ref=sub.gateway_id, before=before, after=snapshot(sub),
                 message=message)
    db.session.commit()


def _record_approval(deps, actor, sub, change, state, now):
    before = snapshot(sub)
    ask = change.params["ask"]
    plan = db.session.get(Plan, ask["plan_id"]) if change.kind == "plan" else None
    if plan is not None:
        sub.plan_id, sub.name = plan.id, plan.name
        sub.price_cents = answered_amount(SubscriptionResult(sub.gateway_id, "succeeded",
                                                             state), sub, plan.price_cents)
    else:
        sub.price_cents = ask["amount_cents"]
    sub.approval_url = None
    sub.price_before_cents = sub.price_from = None  # the approved price replaces a waiting one
    change.status, change.completed_at = "succeeded", now
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
