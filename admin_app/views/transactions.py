"""Sales > Transactions: every payment, its refunds, and the per-row actions."""
from flask import Response, abort, jsonify, request
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape

from actions.errors import ActionError, InvalidRequest
from actions.invoice import download_invoice
from actions.refund import preview_refund_text

from admin_app.composition import deps_from_app
from admin_app.bulk_views import BulkActionsMixin, ListScopeMixin
from admin_app.lists import TRANSACTIONS
from admin_app.row_actions import RowActionsMixin
from admin_app.templating import datetime_, money
from admin_app.views.base import (SecureModelView, customer_formatter, datetime_formatter,
                                  money_formatter)
from models import Transaction


def _refunds_formatter(view, context, model, name):
    """Each refund as 'amount · status · date · who', one per line."""
    lines = [escape(f"{money(r.amount_cents, r.currency)} · {r.status} · "
                    f"{datetime_(r.created_at, 'short')}"
                    + (f" · {r.created_by.email}" if r.created_by else ""))
             for r in model.refunds]
    return Markup("<br>".join(lines))


class TransactionView(ListScopeMixin, BulkActionsMixin, RowActionsMixin, SecureModelView):
    list_scope = TRANSACTIONS  # its search and filters (admin_app/lists.py)
    row_actions = ("invoice", "refund", "check_refund", "affiliate")
    bulk_actions = ("refund_remaining",)
    column_list = ["created_at", "customer", "description", "amount_cents", "gateway",
                   "status", "refunds", "affiliate", "commission_cents", "invoice_number"]
    column_labels = {"created_at": "Date", "amount_cents": "Amount", "gateway": "Payment system",
                     "commission_cents": "Commission", "invoice_number": "Invoice"}
    column_sortable_list = ["created_at", "amount_cents", "invoice_number"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["customer.name", "customer.email"]
    search_hint = "Customer name or email"
    column_select_related_list = [Transaction.customer, Transaction.affiliate]
    column_formatters = {
        "amount_cents": money_formatter,
        "commission_cents": money_formatter,
        "customer": customer_formatter,
        "affiliate": lambda v, c, m, n: m.affiliate.name if m.affiliate else "",
        "gateway": lambda v, c, m, n: m.gateway_label,
        "refunds": _refunds_formatter,
        "created_at": datetime_formatter,
        "status": lambda v, c, m, n: (m.status or "").capitalize(),  # as in the profile
        "invoice_number": lambda v, c, m, n: m.invoice_label,
    }

    @expose("/invoice/<int:tx_id>/pdf")
    def invoice_pdf_view(self, tx_id):
        """Download PDF: the invoice as the e-mail attaches it, as a file (audited)."""
        try:
            filename, pdf = download_invoice(deps_from_app(), current_user, tx_id)
        except InvalidRequest:
            abort(404)
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store"})

    @expose("/refund_preview/<int:tx_id>/")
    def refund_preview_view(self, tx_id):
        """JSON: what refunding the amount typed does (the refund pop-up's preview), or the
        message the refund would be refused with."""
        try:
            heading, lines = preview_refund_text(deps_from_app(), current_user, tx_id,
                                                 request.args.get("amount", ""))
        except ActionError as exc:
            return jsonify(error=exc.message)
        return jsonify(heading=heading, lines=lines)
