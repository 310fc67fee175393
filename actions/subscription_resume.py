"""Resume Payments: collect a paused subscription's payments again."""


from actions.base import RowAction
from actions.subscription_changes import offered, summary
from actions.subscription_pause import resume_subscription
from actions.subscription_forms import KeyedForm, keyed, new_form


def _context(sub, deps):
    renewal = deps.day(sub.current_period_end or sub.next_payment_date)
    return {"summary": summary(sub),
            "consequences": [f"The customer is charged "
                             f"{deps.money(sub.price_cents, sub.currency)} again at the "
                             f"renewal on {renewal}."]}


ACTION = RowAction(
    name="subscription_resume", title="Resume Payments", icon="fa-play",
    permission="change_subscription",
    form=lambda sub, deps: new_form(KeyedForm),
    perform=keyed(resume_subscription), context=_context,
    **offered("resume"))
