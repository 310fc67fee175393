"""Cancel Subscription (×): at the end of the billing period or now; undo a scheduled one.

The guide: cancelled on the 10th, renewing on the 20th: access until the 20th, on Stripe
(cancel_at_period_end) and PayPal (which cancels at once: we keep access until the next
billing time read from PayPal just before cancelling).
"""
from datetime import datetime

from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from actions.base import RowAction
from actions.errors import InvalidRequest
from actions.subscription_changes import (Change, act, gateway_label, offered, require_live,
                                          summary)
from actions.subscription_forms import KeyedForm, keyed, new_form, paid_until
from models.access import access_ends_at, period_moved_unpaid
from models.sub_state import cancel_choices, state
from models.subscription import status_label as status_name

WHEN = {"period_end": "At the end of the billing period", "now": "Immediately"}


def cancel_subscription(deps, actor, sub_id, *, when="period_end", request_key=None):
    """Cancel at the period end (access until then) or now."""
    def prepare(sub):
        day = deps.day(sub.access_until or sub.current_period_end)
        if sub.status == "canceled":
            ends = f" (access until {day})" if sub.access_until else ""
            raise InvalidRequest(f"This subscription is already cancelled{ends}; nothing was "
                                 "changed.")
        if sub.status not in ("incomplete", "unpaid"):  # those end only by cancelling now
            require_live(sub, "cancelling it")
        if when not in WHEN:
            raise InvalidRequest("Choose when the subscription ends; nothing was changed.")
        if sub.cancel_at_period_end and when == "period_end":
            raise InvalidRequest(f"This subscription already cancels on {day}; nothing was "
                                 "changed.")
        if when not in cancel_choices(sub, deps.clock()):
            raise InvalidRequest(f"This subscription is {status_name(sub.status).lower()}: no "
                                 "paid period is left to run out, so it can only be cancelled "
                                 "immediately. Nothing was changed.")
        period_end = sub.current_period_end
        return {"ask": {"when": when},
                "period_end": period_end.isoformat() if period_end else None}

    def read(gateway, ref):
        """The period end the gateway holds (PayPal's next billing time), read just before
        cancelling: what the member keeps access until; ours when the gateway gives none."""
        period_end = gateway.get_subscription(ref).period_end
        return {"period_end": period_end.isoformat()} if period_end else {}

    def call(gateway, sub, change):
        return gateway.cancel(sub.gateway_id, idempotency_key=change.idempotency_key,
                              at_period_end=change.params["ask"]["when"] == "period_end")

    def apply(sub, change, result, now):
        return _apply_cancel(deps, sub, change, result, now)

    return act(deps, actor, sub_id, permission="cancel_subscription", request_key=request_key,
               prepare=prepare, spec=Change("cancel", call, apply,
                                            lambda sub, change, state: state.status == "canceled",
                                            read=read))


def _apply_cancel(deps, sub, change, result, now):
    stored = change.params.get("period_end")
    period_end = (result.state.period_end if result.state and result.state.period_end
                  else datetime.fromisoformat(stored) if stored else None)
    at_end = change.params["ask"]["when"] == "period_end"
    label = gateway_label(sub)
    paused = result.state.paused if result.state else sub.paused
    if period_end and not period_moved_unpaid(sub, period_end, paused):
        sub.current_period_end = period_end
    period_end = sub.current_period_end or period_end  # the period paid for
    if result.status == "succeeded" and sub.gateway == "stripe" and at_end:
        sub.cancel_at_period_end = True
        return (f"The subscription cancels on {deps.day(period_end)}; the "
                "member keeps access until then. “Undo Cancellation” withdraws it until then.")
    # "Immediately" ends access now, also where the gateway had cancelled already (the
    # member at PayPal, or our own call whose answer was lost); at the period end, access
    # lasts to it, but Stripe ends a subscription only when its access ends
    keeps = at_end and not (sub.gateway == "stripe" and result.status == "already_canceled")
    sub.status, sub.cancel_at_period_end, sub.next_payment_date = "canceled", False, None
    sub.canceled_at = sub.canceled_at or now
    # Access ends now, and never after the gateway ended it: Stripe says when (ended_at,
    # whole seconds); PayPal does not, and its clock too counts whole seconds. Our own `now`,
    # with its microseconds, would grant access for a fraction of a second the gateway did not.
    ended = now.replace(microsecond=0)
    if result.state and result.state.ended_at:
        ended = min(ended, result.state.ended_at)
    sub.access_until = period_end if keeps and period_end and period_end > now else ended
    until = (f"the member keeps access until {deps.day(sub.access_until)}"
             if sub.access_until > now else "access has ended")
    if result.status == "already_canceled":
        return f"{label} says this subscription was already cancelled; our record now says " \
               f"so too ({until})."
    if sub.gateway == "paypal":
        return f"PayPal cancelled the subscription (PayPal always cancels at once); {until}."
    return f"Stripe cancelled the subscription now; {until}."


def undo_cancel(deps, actor, sub_id, *, request_key=None):
    """Withdraw a cancellation scheduled for the period end (Stripe), before it happens."""
    def prepare(sub):
        require_live(sub, "undoing a cancellation")
        if not sub.cancel_at_period_end:
            raise InvalidRequest("This subscription has no cancellation to undo; nothing was "
                                 "changed.")
        if sub.gateway != "stripe":
            raise InvalidRequest(f"{gateway_label(sub)} cannot undo a cancellation; nothing "
                                 "was changed.")
        if sub.current_period_end and sub.current_period_end <= deps.clock():
            raise InvalidRequest("The cancellation has taken effect already; nothing was "
                                 "changed.")
        return {"ask": {}}

    def call(gateway, sub, change):
        return gateway.undo_cancel(sub.gateway_id, idempotency_key=change.idempotency_key)

    def apply(sub, change, result, now):
        sub.cancel_at_period_end = False
        sub.cancel_at = result.state.cancel_at if result.state else None  # Stripe clears it
        ends = access_ends_at(sub)
        if ends is not None:  # paused past the period paid for: no renewal to promise
            return (f"The cancellation is withdrawn. Payments stay paused, so access ends on "
                    f"{deps.day(ends)} unless they are resumed.")
        renews = paid_until(sub, deps)
        return f"The cancellation is withdrawn: the subscription renews on {renews}."

    return act(deps, actor, sub_id, permission="cancel_subscription", request_key=request_key,
               prepare=prepare, spec=Change("undo_cancel", call, apply))


class CancelForm(KeyedForm):
    when = SelectField("When", choices=[SelectChoice(k, v) for k, v in WHEN.items()])


def _form(sub, deps):
    choices = cancel_choices(sub, deps.clock())
    form = new_form(CancelForm, when=choices[0])
    form.when.choices = [SelectChoice(k, WHEN[k]) for k in choices]
    return form


def _context(sub, deps):
    """What really happens, said for the subscription's state (issue 21 item 2)."""
    key = state(sub, deps.clock())
    end = paid_until(sub, deps)
    label = gateway_label(sub)
    no_refund = "Nothing is refunded."
    if key in ("past_due", "unpaid", "incomplete"):
        unpaid = {"past_due": f"The renewal due on {end} is unpaid and {label} is retrying it",
                  "unpaid": f"{label} gave up collecting the renewal due on {end}",
                  "incomplete": "The first payment was never made"}[key]
        lines = [f"{unpaid}: there is no paid period left to run out, so the subscription "
                 "can only be cancelled immediately.",
                 f"Immediately: {label} cancels now, takes no further payment or retry, and "
                 f"the member's access ends now. {no_refund}"]
        return {"summary": summary(sub, ("Status", status_name(sub.status))),
                "consequences": lines}
    if key == "cancelling":  # a Stripe cancellation scheduled for the period end
        return {"summary": summary(sub, ("Access until", end)),
                "consequences": [f"The subscription already ends on {end}. Immediately: "
                                 f"Stripe cancels now and access ends now. {no_refund}"]}
    what = "trial" if key == "trialing" else "billing period"
    row = ("Trial ends", end) if key == "trialing" else ("Paid until", end)
    paused = (" Payments are paused, so nothing more is charged either way."
              if key == "paused" else "")
    if sub.gateway == "stripe":
        lines = [f"At the end of the {what}: the subscription is not renewed and no further "
                 f"payment is taken; access ends on {end}. You can undo this until then."
                 + paused,
                 f"Immediately: Stripe cancels now and access ends now. {no_refund}"]
    else:
        lines = [f"PayPal cancels at once whichever you choose, and no further payment is "
                 f"taken. At the end of the {what}: the member keeps access until {end} "
                 "(PayPal's next billing time, read again just before cancelling)." + paused,
                 f"Immediately: access ends now. {no_refund} A PayPal cancellation cannot "
                 "be undone."]
    return {"summary": summary(sub, row), "consequences": lines}


ACTION = RowAction(
    name="subscription_cancel", title="Cancel Subscription", icon="fa-times",
    permission="cancel_subscription", form=_form,
    perform=keyed(cancel_subscription, when="when"), context=_context,
    submit_label="Cancel subscription", danger=True,
    **offered("cancel"))
