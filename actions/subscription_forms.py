"""What the subscription row actions' modals share: a form carrying its one-time request key,
a perform that passes the form's fields to the action function, and the lines and rules
several modals show."""
import uuid

from flask_wtf import FlaskForm

from actions.form_checks import request_key_field
from models.sub_state import price_note

class KeyedForm(FlaskForm):
    """A subscription modal's form: at least its one-time request key (a resubmitted form
    finds the change it made instead of making another)."""

    request_key = request_key_field()


def new_form(form_class, **data):
    """A fresh form of `form_class` with a new request key."""
    return form_class(request_key=uuid.uuid4().hex, **data)


def keyed(function, **fields):
    """A RowAction's perform: function(deps, actor, sub_id, request_key=the form's key, and
    each keyword=the data of the form field named beside it)."""
    def perform(sub, form, actor, deps):
        values = {name: getattr(form, field).data for name, field in fields.items()}
        return function(deps, actor, sub.id, request_key=form.request_key.data, **values)
    return perform


def proration_date(form):
    """The proration time Stripe's preview was made for, as the modal sent it back, or None
    (the action function checks it)."""
    return form.proration_date.data or None


def price_per_cycle(sub, deps):
    """'$30.00 · monthly', or '$30.00 · monthly → $35.00 from 2 Jan 2027' while a new
    price waits for the renewal."""
    note = price_note(sub, deps.money, deps.day)
    return f"{deps.money(sub.charged_cents, sub.currency)} · {sub.cycle}" + \
        (f" {note}" if note else "")


def paid_until(sub, deps):
    """The last day of the period paid for, as the admin reads it (paused in a period nobody
    paid for: the end of the last one paid, Subscription.unpaid_from)."""
    unpaid_from = sub.unpaid_from if sub.paused else None
    return deps.day(unpaid_from or sub.current_period_end or sub.next_payment_date)

