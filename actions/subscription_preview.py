"""What a price or plan change would charge or credit, in the admin's words, from the
gateway's own calculation (Stripe's invoice preview); changes nothing."""
from actions.errors import InvalidRequest
from actions.permissions import require
from actions.subscription_plan import other_plans, plan_ref
from actions.subscription_price import PAYPAL_NOTICE
from models import Plan, Subscription, db



def preview_subscription_change(deps, actor, sub_id, *, amount_cents=None, effective=None,
                                plan_id=None, proration="none"):
    """(consequence lines, proration_date) for a new price (amount_cents, effective) or a
    new plan (plan_id, proration); pass proration_date on to the change itself."""
    require(actor, "change_subscription")
    sub = db.session.get(Subscription, sub_id)
    if sub is None:
        raise InvalidRequest("This subscription no longer exists.")
    money = lambda cents: deps.money(cents, sub.currency)  # noqa: E731
    when = int(deps.clock().timestamp())
    if plan_id is not None:
        plan = db.session.get(Plan, plan_id)
        if plan is None or plan not in other_plans(sub) or not plan_ref(plan, sub.gateway):
            raise InvalidRequest("Choose another plan in the same currency and cycle.")
        new_cents, target = plan.price_cents, {"plan_ref": plan_ref(plan, sub.gateway)}
        head = f"New plan “{plan.name}”: {money(new_cents)} per cycle ({sub.cycle.lower()})."
    else:
        if not amount_cents or amount_cents <= 0:
            raise InvalidRequest("Enter a price greater than zero.")
        proration = "always_invoice" if effective == "now" else "none"
        new_cents = amount_cents
        target = {"amount_cents": amount_cents, "currency": sub.currency,
                  "interval": sub.interval, "interval_count": sub.interval_count}
        head = f"New amount: {money(new_cents)} per cycle ({sub.cycle.lower()})."
    renewal = deps.day(sub.next_payment_date or sub.current_period_end)
    if sub.gateway != "stripe":
        return [head, f"From the next billing cycle ({renewal}) on; nothing is charged or "
                      "credited now (PayPal does not prorate).", PAYPAL_NOTICE], when
    preview = deps.gateways(sub.gateway).preview_change(
        sub.gateway_id, proration=proration, proration_date=when, **target)
    return [head] + _stripe_lines(preview, money, renewal, new_cents), when


def _stripe_lines(preview, money, renewal, new_cents):
    if preview.proration == "always_invoice":
        now = preview.due_now_cents
        if now > 0:
            first = f"Charged now: {money(now)} (the difference for the rest of this period)."
        elif now < 0:
            first = (f"Credited now: {money(-now)} to the customer's Stripe balance (taken "
                     "off the next invoices).")
        else:
            first = "Nothing is charged or credited now."
        return [first, f"From the renewal on {renewal}: {money(new_cents)} per cycle."]
    nothing = "Nothing is charged or credited now."
    if preview.proration == "none":
        return [nothing, f"From the renewal on {renewal}: {money(new_cents)} per cycle "
                         f"(next invoice: {money(preview.next_invoice_cents)})."]
    diff = preview.proration_cents
    kind = "charge" if diff >= 0 else "credit"
    return [nothing, f"On the next invoice ({renewal}): a {kind} of {money(abs(diff))} for "
                     f"the rest of this period, plus {money(new_cents)} for the next one: "
                     f"{money(preview.next_invoice_cents)} in all."]
