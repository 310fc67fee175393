"""Upgrade Plan (arrows): move a subscription to another plan of the same currency, on any
billing cycle the gateway can switch to, grouped Upgrade / Downgrade by monthly price.

Stripe switches a subscription to a price of any interval (monthly <-> quarterly <-> yearly);
a change of interval starts a new billing period at once, with the proration chosen, and the
exact amount is Stripe's own invoice preview. PayPal's revise (POST /v1/billing/subscriptions
/{id}/revise with a plan_id) moves a subscription to another plan *of the same PayPal
product*, whatever its billing frequency; it answers PLAN_PRODUCT_NOT_COMPATIBLE otherwise,
never prorates (the new price applies from the next billing cycle) and asks a PayPal-wallet
payer to re-consent at an approval link. We do not store PayPal's product, so every plan with
a PayPal plan id is offered and PayPal's refusal is reported as it comes.
"""
from fractions import Fraction

from sqlalchemy import select
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from actions.base import RowAction
from actions.errors import InvalidRequest
from actions.subscription_changes import (Change, act, answered_amount, gateway_label,
                                          offered, payment_pending, proration_time,
                                          require_live, require_no_approval_pending, summary)
from actions.subscription_forms import KeyedForm, new_form, price_per_cycle, proration_date
from models import Plan, db

PRORATIONS = {"none": "No proration: the new price from the next renewal",
              "create_prorations": "Credit or charge the difference on the next invoice",
              "always_invoice": "Invoice the difference now"}


#: months in one interval (a week and a day as fractions of an average month)
MONTHS = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(7 * 12, 365),
          "day": Fraction(12, 365)}


def monthly_price(price_cents, interval, interval_count):
    """The price per month of a cycle (exact fraction of minor units), for comparing plans."""
    return Fraction(price_cents) / (MONTHS.get(interval, Fraction(1)) * interval_count)


def other_plans(sub):
    """The plans a subscription may move to: active, same currency, any billing cycle, with
    an id at the subscription's gateway, not its own; cheapest per month first."""
    plans = db.session.scalars(select(Plan).where(
        Plan.active.is_(True), Plan.currency == sub.currency,
        Plan.id != (sub.plan_id or 0))).all()
    plans = [p for p in plans if plan_ref(p, sub.gateway)]
    return sorted(plans, key=lambda p: (monthly_price(p.price_cents, p.interval,
                                                      p.interval_count), p.id))


def grouped_plans(sub, deps):
    """{"Upgrade": [(id, label)], "Downgrade": [...]} by price per month against the
    subscription's own (equal counts as an upgrade: a move to another cycle)."""
    mine = monthly_price(sub.price_cents, sub.interval, sub.interval_count)
    groups = {"Upgrade": [], "Downgrade": []}
    for p in other_plans(sub):
        per_month = monthly_price(p.price_cents, p.interval, p.interval_count)
        label = f"{p.name} — {deps.money(p.price_cents, p.currency)} · {p.cycle}"
        if p.interval != "month" or p.interval_count != 1:
            label += f" (≈ {deps.money(round(per_month), p.currency)} a month)"
        groups["Downgrade" if per_month < mine else "Upgrade"].append((str(p.id), label))
    return {name: choices for name, choices in groups.items() if choices}


def plan_ref(plan, gateway):
    return plan.stripe_price_id if gateway == "stripe" else plan.paypal_plan_id


def change_subscription_plan(deps, actor, sub_id, plan_id, *, proration="none",
                             request_key=None, proration_date=None):
    """Move the subscription to plan_id; proration only on Stripe."""
    def prepare(sub):
        require_live(sub, "changing its plan")
        require_no_approval_pending(sub, deps)
        plan = db.session.get(Plan, plan_id) if plan_id else None
        if (plan is not None and plan.active and plan.currency == sub.currency
                and not plan_ref(plan, sub.gateway)):
            raise InvalidRequest(f"The plan “{plan.name}” has no {gateway_label(sub)} id; "
                                 "add it in Catalog > Plans. Nothing was changed.")
        if plan is None or plan not in other_plans(sub):
            raise InvalidRequest("Choose another active plan in the same currency; nothing "
                                 "was changed.")
        if not plan_ref(plan, sub.gateway):
            raise InvalidRequest(f"The plan “{plan.name}” has no {gateway_label(sub)} id; "
                                 "add it in Catalog > Plans. Nothing was changed.")
        if proration not in PRORATIONS or (sub.gateway != "stripe" and proration != "none"):
            raise InvalidRequest(f"{gateway_label(sub)} does not prorate a plan change; "
                                 "nothing was changed.")
        when = proration_time(deps, proration_date)
        return {"ask": {"plan_id": plan.id, "proration": proration},
                "from_plan_id": sub.plan_id, "before_cents": sub.price_cents,
                "proration_date": when}

    def call(gateway, sub, change):
        ask = change.params["ask"]
        plan = db.session.get(Plan, ask["plan_id"])
        return gateway.change_plan(
            sub.gateway_id, plan_ref(plan, sub.gateway), proration=ask["proration"],
            idempotency_key=change.idempotency_key,
            proration_date=change.params["proration_date"] if ask["proration"] != "none"
            else None)

    def applied(sub, change, state):
        plan = db.session.get(Plan, change.params["ask"]["plan_id"])
        return state.price_ref == plan_ref(plan, sub.gateway)

    def apply(sub, change, result, now):
        plan = db.session.get(Plan, change.params["ask"]["plan_id"])
        if result.status == "approval_pending":
            change.status, change.approval_url = "awaiting_approval", result.approval_url
            sub.approval_url = result.approval_url
            return (f"{gateway_label(sub)} needs the customer's approval to move to "
                    f"“{plan.name}”; the subscription is waiting for it. Send the customer "
                    f"this link: {result.approval_url}")
        if result.status == "payment_pending":
            return payment_pending(deps, sub, change, result)
        price = answered_amount(result, sub, plan.price_cents)
        sub.plan_id, sub.name, sub.price_cents = plan.id, plan.name, price
        sub.price_before_cents = sub.price_from = None  # a plan change replaces a waiting price
        sub.interval, sub.interval_count = plan.interval, plan.interval_count
        if result.state is not None and result.state.period_end:
            sub.current_period_end = result.state.period_end  # a new cycle starts now
        note = "" if price == plan.price_cents else (
            f" ({gateway_label(sub)}'s price; the catalog says "
            f"{deps.money(plan.price_cents, plan.currency)})")
        return (f"The subscription is now on “{plan.name}” at "
                f"{deps.money(price, sub.currency)} {plan.cycle.lower()}{note}.")

    return act(deps, actor, sub_id, permission="change_subscription", request_key=request_key,
               prepare=prepare, spec=Change("plan", call, apply, applied))


class PlanForm(KeyedForm):
    plan = SelectField("New plan", validators=[DataRequired()])
    proration = SelectField("Proration")
    proration_date = HiddenField()

    def __init__(self, *args, sub, deps, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan.choices = grouped_plans(sub, deps)  # <optgroup>s: Upgrade, Downgrade
        self.proration.choices = [SelectChoice(k, v) for k, v in PRORATIONS.items()
                                  if k == "none" or sub.gateway == "stripe"]


def _form(sub, deps):
    return new_form(PlanForm, sub=sub, deps=deps, proration="none")


def _perform(sub, form, actor, deps):
    return change_subscription_plan(
        deps, actor, sub.id, int(form.plan.data), proration=form.proration.data,
        request_key=form.request_key.data, proration_date=proration_date(form))


def _context(sub, deps):
    if sub.gateway == "stripe":
        lines = ["The amount charged or credited now, and on the next invoice, is shown below "
                 "from Stripe's own preview for the plan and proration you choose."]
    else:
        lines = ["PayPal does not prorate: nothing is charged or credited now; the new plan's "
                 "price applies from the next billing cycle.",
                 "PayPal may ask the customer to approve the change: the subscription is then "
                 "marked “waiting for the customer's approval” and you get the link to send."]
    current = price_per_cycle(sub, deps)
    if not other_plans(sub):
        return {"summary": summary(sub, ("Current plan", current)), "nothing_to_offer": True,
                "consequences": [f"There is no other active {sub.currency} plan with a "
                                 f"{gateway_label(sub)} id to move to. Add one in Catalog > "
                                 "Plans; nothing can be changed here until then."]}
    if sub.gateway == "stripe":
        lines.append("A plan on another billing cycle (monthly, quarterly, yearly) starts a "
                     "new billing period today.")
    else:
        lines.append("PayPal moves a subscription only to a plan of the same PayPal product "
                     "(any billing cycle); it refuses another product's plan and nothing "
                     "changes.")
    return {"summary": summary(sub, ("Current plan", current)),
            "consequences": lines, "preview_kind": "plan"}


ACTION = RowAction(
    name="subscription_plan", title="Upgrade Plan", icon="fa-exchange",
    permission="change_subscription", template="actions/subscription_change.html",
    form=_form, perform=_perform, context=_context,
    **offered("plan"))
