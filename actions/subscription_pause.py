"""Pause Payments / Resume Payments: stop and restart collecting (Stripe pause_collection,
PayPal suspend / activate); access lasts until the end of the period paid for."""
from datetime import timedelta

from wtforms.validators import Optional

from actions.base import RowAction
from actions.errors import InvalidRequest
from actions.form_checks import PlainDateField
from actions.subscription_changes import (Change, act, gateway_label, offered, require_live,
                                          summary)
from actions.subscription_forms import KeyedForm, new_form, paid_until
from models.access import unpaid_from_after

MAX_PAUSE = timedelta(days=730)  # a resume date further ahead is a typo, not a plan


def pause_subscription(deps, actor, sub_id, *, resumes_at=None, request_key=None):
    """Stop collecting payments, until resumes_at (aware datetime; Stripe only) if given."""
    def prepare(sub):
        require_live(sub, "pausing its payments")
        if sub.paused:
            raise InvalidRequest("Payments of this subscription are paused already; nothing "
                                 "was changed.")
        if resumes_at is not None and sub.gateway != "stripe":
            raise InvalidRequest(f"{gateway_label(sub)} cannot resume payments on a date: "
                                 "pause without a date and resume by hand. Nothing was "
                                 "changed.")
        if resumes_at is not None and resumes_at <= deps.clock():
            raise InvalidRequest("The date payments resume must be in the future; nothing "
                                 "was changed.")
        if resumes_at is not None and resumes_at > deps.clock() + MAX_PAUSE:
            raise InvalidRequest(f"Payments can be paused for up to {MAX_PAUSE.days} days; "
                                 "choose an earlier date to resume, or pause without a date. "
                                 "Nothing was changed.")
        return {"ask": {"resumes_at": resumes_at.isoformat() if resumes_at else None}}

    def call(gateway, sub, change):
        return gateway.pause(sub.gateway_id, resumes_at, idempotency_key=change.idempotency_key)

    def apply(sub, change, result, now):
        sub.paused, sub.pause_resumes_at = True, resumes_at
        if resumes_at:
            return (f"Payments are paused until {deps.day(resumes_at)}; "
                    f"{gateway_label(sub)} resumes them then.")
        return "Payments are paused until you resume them."

    return act(deps, actor, sub_id, permission="change_subscription", request_key=request_key,
               prepare=prepare, spec=Change("pause", call, apply,
                                             lambda sub, change, state: state.paused))


def resume_subscription(deps, actor, sub_id, *, request_key=None):
    """Collect payments again."""
    def prepare(sub):
        require_live(sub, "resuming its payments")
        if not sub.paused:
            raise InvalidRequest("Payments of this subscription are not paused; nothing was "
                                 "changed.")
        return {"ask": {}}

    def call(gateway, sub, change):
        return gateway.resume(sub.gateway_id, idempotency_key=change.idempotency_key)

    def apply(sub, change, result, now):
        period_end = result.state.period_end if result.state else None
        # a period Stripe moved on to while payments were paused is unpaid (models/access.py)
        sub.unpaid_from = unpaid_from_after(sub, period_end, False)
        if period_end and (sub.current_period_end is None or period_end > sub.current_period_end):
            sub.current_period_end = sub.next_payment_date = period_end
        sub.paused, sub.pause_resumes_at = False, None
        return "Payments are collected again from the next renewal."

    return act(deps, actor, sub_id, permission="change_subscription", request_key=request_key,
               prepare=prepare, spec=Change("resume", call, apply,
                                             lambda sub, change, state: not state.paused))


class PauseForm(KeyedForm):
    resumes_on = PlainDateField("Resume payments on (optional)", validators=[Optional()])


def _form(sub, deps):
    form = new_form(PauseForm)
    if sub.gateway != "stripe":
        del form.resumes_on
    return form


def _perform(sub, form, actor, deps):
    day = getattr(form, "resumes_on", None)
    # the day typed is a store-local day: payments resume when it begins in the store
    resumes = deps.day_start(day.data) if day is not None and day.data else None
    return pause_subscription(deps, actor, sub.id, resumes_at=resumes,
                              request_key=form.request_key.data)


def _context(sub, deps):
    end = deps.day(sub.unpaid_from) if sub.unpaid_from else paid_until(sub, deps)
    kept = (f"the member keeps access until {end}, the end of the period already paid for"
            if not sub.unpaid_from or sub.unpaid_from > deps.clock() else
            f"the member's access ends now: the current period, from {deps.day(sub.unpaid_from)}, "
            "was not paid (Stripe voided its invoice while payments were paused before)")
    lines = [f"No payment is taken while paused; {kept}.",
             "Stripe voids the invoices of the paused periods; with a date, Stripe resumes "
             "by itself on that day." if sub.gateway == "stripe" else
             "PayPal suspends the subscription until you resume it (PayPal takes no date)."]
    return {"summary": summary(sub, ("Paid until", end)),
            "consequences": lines}


ACTION = RowAction(
    name="subscription_pause", title="Pause Payments", icon="fa-pause",
    permission="change_subscription", form=_form, perform=_perform, context=_context,
    **offered("pause"))
