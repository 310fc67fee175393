"""The audit log: read-only, for the roles that answer for money and data (view_audit).

Two tabs over one table: what admins and gateways changed ("Changes"), and the sign-ins
(log in, log out, failed logins) on their own. Each entry's before/after reads as a diff
("Amount: $149.00 → $99.00", money formatted with Babel in its currency), its target links
to the record (a customer's profile, the payment, the subscription, the job), and both tabs
filter by target, actor and date.
"""
import json

from flask import current_app, g, url_for
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from markupsafe import Markup
from sqlalchemy import select

from admin_app.list_filters import DayRangeFilter, IdFilter
from admin_app.lists import SUBSCRIPTIONS, TRANSACTIONS
from admin_app.templating import money
from admin_app.views.base import SecureModelView, datetime_formatter
from models import AuditEvent, Subscription, Transaction, db

#: the actions of the Sign-ins tab
SIGN_IN_ACTIONS = ("login", "logout")

#: target_type -> what the Target column and filter call it
TARGET_LABELS = {"customer": "Customer", "transaction": "Payment", "subscription": "Subscription",
                 "job": "Job", "admin_user": "Admin user", "plan": "Plan",
                 "affiliate": "Affiliate", "refund": "Refund", "webhook_event": "Webhook event",
                 "export": "Export"}

#: field names in before/after that read better in words
FIELD_LABELS = {"lifetime_value_cents": "Lifetime value", "amount_cents": "Amount",
                "price_cents": "Price", "refunded_cents": "Refunded",
                "commission_cents": "Commission", "vat_number": "VAT number",
                "postal_code": "Zip/Postal code", "company_id": "Company ID",
                "tax_id": "Tax ID", "affiliate_id": "Affiliate", "plan_id": "Plan"}


def _filter_arg(filters, wanted):
    """Flask-Admin's URL argument of the filter `wanted` of a list (flt1_<its index>)."""
    return f"flt1_{filters.index(wanted)}"


def _id_filter(scope):
    return next(f for f in scope.filters if isinstance(f, IdFilter))


def record_url(target_type, target_id):
    """Where the record an entry is about is shown, or None."""
    if target_id is None:
        return url_for("admin_users.index") if target_type == "admin_user" else None
    if target_type == "customer":
        return url_for("customer.index_view", profile=target_id)
    if target_type == "transaction":
        flt = _id_filter(TRANSACTIONS)
        return url_for("transaction.index_view",
                       **{_filter_arg(list(TRANSACTIONS.filters), flt): target_id})
    if target_type == "subscription":
        flt = _id_filter(SUBSCRIPTIONS)
        return url_for("subscription.index_view",
                       **{_filter_arg(list(SUBSCRIPTIONS.filters), flt): target_id})
    if target_type == "job":
        return url_for("jobs.job_view", job_id=target_id)
    if target_type == "admin_user":
        return url_for("admin_users.index")
    if target_type in ("plan", "affiliate"):
        return url_for(f"{target_type}.index_view")
    return None


def target_formatter(view, context, model, name):
    text = TARGET_LABELS.get(model.target_type, model.target_type)
    if model.target_id is not None:
        text = f"{text} #{model.target_id}"
    url = record_url(model.target_type, model.target_id)
    if url is None:
        return text
    return Markup('<a href="{}" class="md-audit-target">{}</a>').format(url, text)


def field_label(key):
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    words = key.removesuffix("_cents").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value(key, value, currency):
    if value is None or value == "":
        return "—"
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return money(value, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def diff_lines(before, after, currency):
    """[(field, old or None, new or None)] of an entry, in words; money in `currency`."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    currency = after.get("currency") or before.get("currency") or currency
    lines = []
    for key in list(before) + [k for k in after if k not in before]:
        if key == "currency" and before.get(key, after.get(key)) == after.get(key, before.get(key)):
            continue  # named by the amounts it formats
        old = _value(key, before[key], currency) if key in before else None
        new = _value(key, after[key], currency) if key in after else None
        lines.append((field_label(key), old, new))
    return lines


class ActorFilter(FilterEqual):
    """The admin's e-mail address as typed (any case): an equality the actor index serves."""

    def clean(self, value):
        return value.strip().lower()


class AuditView(SecureModelView):
    """Changes: every audit entry but the sign-ins."""

    permission = "view_audit"
    list_template = "audit/list.html"
    #: False: every entry but the sign-ins; True: only the sign-ins
    sign_ins = False
    column_list = ["created_at", "actor_email", "action", "target", "outcome", "changes",
                   "message", "gateway_ref"]
    column_labels = {"created_at": "When", "actor_email": "Actor", "gateway_ref": "Gateway ref",
                     "changes": "Before → after"}
    column_sortable_list = ["created_at"]
    column_default_sort = ("created_at", True)
    column_formatters = {"created_at": datetime_formatter, "target": target_formatter,
                         "changes": lambda v, c, m, n: v.changes_formatter(m)}

    def __init__(self, *args, **kwargs):
        # the filters of the tab: by target, actor and date (indexes: migration 0013)
        self.column_filters = [
            FilterEqual(AuditEvent.target_type, "Target",
                        options=sorted(TARGET_LABELS.items(), key=lambda kv: kv[1])),
            IdFilter(AuditEvent.target_id, "Target id"),
            ActorFilter(AuditEvent.actor_email, "Actor"),
            DayRangeFilter(AuditEvent.created_at, "Date"),
            FilterEqual(AuditEvent.action, "Action"),
            FilterLike(AuditEvent.outcome, "Outcome"),
        ]
        super().__init__(*args, **kwargs)

    def _tab(self, query):
        if self.sign_ins:
            return query.filter(AuditEvent.action.in_(SIGN_IN_ACTIONS))
        return query.filter(AuditEvent.action.not_in(SIGN_IN_ACTIONS))

    def get_query(self):
        return self._tab(super().get_query())

    def get_count_query(self):
        return self._tab(super().get_count_query())

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """The page's entries, and the currency of the payments and subscriptions they name
        (one query each) for the amounts of entries that do not carry their own."""
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters,
                                       execute=execute, page_size=page_size)
        if execute:
            g.audit_currencies = self._target_currencies(rows)
        return count, rows

    @staticmethod
    def _target_currencies(rows):
        found = {}
        for model, kind in ((Transaction, "transaction"), (Subscription, "subscription")):
            ids = {r.target_id for r in rows if r.target_type == kind and r.target_id}
            if ids:
                found.update({(kind, i): c for i, c in db.session.execute(
                    select(model.id, model.currency).where(model.id.in_(ids)))})
        return found

    def changes_formatter(self, entry):
        currency = (g.get("audit_currencies", {}).get((entry.target_type, entry.target_id))
                    or current_app.config["STORE_CURRENCY"])
        lines = diff_lines(entry.before, entry.after, currency)
        if not lines:
            return ""
        items = []
        for label, old, new in lines:
            if old is None:
                items.append(Markup("<li><b>{}</b>: {}</li>").format(label, new))
            elif new is None:
                items.append(Markup("<li><b>{}</b>: {} (was)</li>").format(label, old))
            elif old == new:
                items.append(Markup("<li><b>{}</b>: {}</li>").format(label, new))
            else:
                items.append(Markup('<li><b>{}</b>: <del>{}</del> → <ins>{}</ins></li>')
                             .format(label, old, new))
        return Markup('<ul class="md-audit-diff list-unstyled mb-0">{}</ul>').format(
            Markup("").join(items))

    def tabs(self):
        """(title, url, active) of the two tabs."""
        return [("Changes", url_for("audit.index_view"), not self.sign_ins),
                ("Sign-ins", url_for("audit_sign_ins.index_view"), self.sign_ins)]


class SignInView(AuditView):
    """Sign-ins: log in, log out and failed logins, on their own tab (not in the menu)."""

    sign_ins = True
    column_list = ["created_at", "actor_email", "action", "outcome", "message"]

    def is_visible(self):
        return False

