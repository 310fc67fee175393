"""Optional columns of the customers list (Subscription status, Next renewal), switched on
per admin (kept in their session) and off by default: the default page runs no extra query.
When shown, the page's customers' subscriptions come in one query (ix_subscription_customer)."""
from flask import g, has_request_context, redirect, request, session
from flask_admin import expose
from flask_wtf import FlaskForm
from sqlalchemy import select

from admin_app.redirects import get_redirect_target
from admin_app.templating import date, subscription_status
from models import Subscription, db
from models._types import utcnow
from models.sub_state import showing_next_payment, shown_at, state

#: column name -> label, in the order they are added after the list's own columns
OPTIONAL_COLUMNS = {"subscription_status": "Subscription status",
                    "next_renewal": "Next renewal"}
SESSION_KEY = "customer_columns"
# which of a customer's subscriptions the columns describe: the liveliest, then the newest
_RANK = {"active": 0, "trialing": 0, "past_due": 1, "paused": 2, "unpaid": 3,
         "incomplete": 4, "cancelling": 5, "cancelled": 6}


def shown_columns():
    """The optional columns this admin switched on."""
    if not has_request_context():
        return []
    chosen = session.get(SESSION_KEY) or []
    return [name for name in OPTIONAL_COLUMNS if name in chosen]


def main_subscriptions(customer_ids):
    """customer id -> (the subscription the columns describe, how many others it has)."""
    if not customer_ids:
        return {}
    now, found = utcnow(), {}
    subs = db.session.scalars(select(Subscription).where(
        Subscription.customer_id.in_(customer_ids))).all()
    for sub in subs:
        found.setdefault(sub.customer_id, []).append(sub)
    return {cid: (min(group, key=lambda s: (_RANK.get(state(s, now), 9),
                                            -s.start_date.timestamp() if s.start_date else 0,
                                            -s.id)),
                  len(group) - 1)
            for cid, group in found.items()}


def _described(model):
    return g.get("customer_subscriptions", {}).get(model.id)


def status_formatter(view, context, model, name):
    found = _described(model)
    if found is None:
        return "—"
    sub, others = found
    return subscription_status(sub) + (f" (+{others} more)" if others else "")


def renewal_formatter(view, context, model, name):
    found = _described(model)
    if found is None or not showing_next_payment(found[0], shown_at()):
        return "—"
    return date(found[0].next_payment_date) or "—"


class OptionalColumnsMixin:
    """Adds the switched-on optional columns to Flask-Admin's list columns, per request."""

    column_formatters = {"subscription_status": status_formatter,
                         "next_renewal": renewal_formatter}

    @property
    def _list_columns(self):
        base = self.__dict__.get("_base_list_columns", [])
        return base + [(name, OPTIONAL_COLUMNS[name]) for name in shown_columns()]

    @_list_columns.setter
    def _list_columns(self, value):
        self.__dict__["_base_list_columns"] = value

    def optional_columns(self):
        """(name, label, shown) for the Columns menu."""
        shown = shown_columns()
        return [(name, label, name in shown) for name, label in OPTIONAL_COLUMNS.items()]

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters,
                                       execute=execute, page_size=page_size)
        if execute and shown_columns():
            g.customer_subscriptions = main_subscriptions([row.id for row in rows])
        return count, rows

    @expose("/columns", methods=("POST",))
    def columns_view(self):
        """Save which optional columns this admin sees; back to the list as it was."""
        back = get_redirect_target() or self.get_url(".index_view")
        if FlaskForm().validate_on_submit():
            session[SESSION_KEY] = [n for n in OPTIONAL_COLUMNS
                                    if n in request.form.getlist("column")]
        return redirect(back)
