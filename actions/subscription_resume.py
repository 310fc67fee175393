"""Resume Payments: collect a paused subscription's payments again."""
import uuid

from flask_wtf import FlaskForm

from actions.base import RowAction
from actions.form_checks import request_key_field
from actions.subscription_changes import offered, summary
from actions.subscription_pause import resume_subscription



class ResumeForm(FlaskForm):
    request_key = request_key_field()


def _perform(sub, form, actor, deps):
    return resume_subscription(deps, actor, sub.id, request_key=form.request_key.data)


def _context(sub, deps):
    renewal = deps.day(sub.current_period_end or sub.next_payment_date)
    return {"summary": summary(sub),
            "consequences": [f"The customer is charged "
                             f"{deps.money(sub.price_cents, sub.currency)} again at the "
                             f"renewal on {renewal}."]}


ACTION = RowAction(
    name="subscription_resume", title="Resume Payments", icon="fa-play",
    permission="change_subscription",
    form=lambda sub, deps: ResumeForm(request_key=uuid.uuid4().hex),
    perform=_perform, context=_context,
    **offered("resume"))
