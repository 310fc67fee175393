"""The invoice of a payment: built from the database, shown in a pop-up, re-sent by email."""
import mimetypes
from pathlib import Path
from dataclasses import dataclass
from datetime import date, datetime

from flask_wtf import FlaskForm
from sqlalchemy import select

from actions import audit
from actions.address import address_lines
from actions.base import ActionResult, RowAction
from actions.errors import EmailFailed, InvalidRequest
from actions.invoice_mail import Message
from actions.permissions import require
from actions.invoice_pdf import (LOGO_CID, invoice_html, invoice_pdf, invoice_text,
                                 logo_data_uri, seller_logo)
from models import AuditEvent, Transaction, db
from models.transaction import REFUND_REASONS, invoice_label

__all__ = ["Invoice", "build_invoice", "download_invoice", "invoice_html", "invoice_pdf", "invoice_text",
           "resend_invoice", "last_sent", "ACTION"]


@dataclass(frozen=True)
class Seller:
    """The business issuing the invoice, from configuration."""

    name: str
    address: str
    vat_id: str
    logo_path: str


@dataclass(frozen=True)
class Buyer:
    """The customer as printed on the invoice (country as an ISO 3166 alpha-2 code)."""

    name: str
    email: str
    company: str
    company_id: str
    address: str
    city: str
    state: str
    postal_code: str
    country: str
    vat_number: str
    tax_id: str

    @property
    def address_lines(self):
        """Street, place and country in the order and form of the country's post."""
        return address_lines(self.address, self.city, self.state, self.postal_code,
                             self.country)


@dataclass(frozen=True)
class Line:
    """One line item: net + tax = total, in minor units."""

    description: str
    net_cents: int
    tax_cents: int
    total_cents: int


@dataclass(frozen=True)
class Credit:
    """A succeeded refund, shown as a credit line with the balance left after it."""

    refund_id: int
    date: date
    description: str
    amount_cents: int
    balance_cents: int


@dataclass(frozen=True)
class Invoice:
    """Everything printed on an invoice, as plain values; money in minor units of `currency`."""

    transaction_id: int
    number: int
    label: str
    issue_date: date
    currency: str
    seller: Seller
    buyer: Buyer
    lines: tuple
    net_cents: int
    tax_cents: int
    total_cents: int
    payment_system: str
    paid_at: datetime
    credits: tuple
    balance_cents: int

    @property
    def pdf_filename(self):
        return f"invoice-{self.label}.pdf"


@dataclass(frozen=True)
class Sent:
    """When an invoice was last emailed from Memberdesk, and to whom."""

    at: datetime
    to: str


def _seller(deps):
    logo = deps.setting("SELLER_LOGO")
    if logo:  # a relative path is read from the instance folder
        logo = str(Path(deps.setting("INSTANCE_PATH") or ".") / logo)
    return Seller(name=deps.setting("SELLER_NAME"), address=deps.setting("SELLER_ADDRESS"),
                  vat_id=deps.setting("SELLER_VAT_ID"), logo_path=logo)


def _buyer(customer):
    fields = ("company", "company_id", "address", "city", "state", "postal_code", "country",
              "vat_number", "tax_id")
    return Buyer(name=customer.name, email=customer.email or "",
                 **{key: getattr(customer, key) or "" for key in fields})


def _credits(tx):
    balance, credits = tx.amount_cents, []
    for refund in tx.refunds:
        if refund.status != "succeeded":
            continue
        balance -= refund.amount_cents
        reason = REFUND_REASONS.get(refund.reason, refund.reason)
        credits.append(Credit(refund_id=refund.id,
                              date=(refund.completed_at or refund.created_at).date(),
                              description=f"Refund ({reason})", amount_cents=refund.amount_cents,
                              balance_cents=balance))
    return tuple(credits), balance


def build_invoice(deps, tx_id):
    """The invoice of payment `tx_id`; InvalidRequest if the payment has none."""
    tx = db.session.get(Transaction, tx_id)
    if tx is None:
        raise InvalidRequest("This payment no longer exists.")
    if tx.invoice_number is None:
        raise InvalidRequest(f"This payment has no invoice (it is {tx.status}); "
                             "only completed payments get one.")
    net = tx.amount_cents - tx.tax_cents
    credits, balance = _credits(tx)
    return Invoice(
        transaction_id=tx.id, number=tx.invoice_number, label=invoice_label(tx.invoice_number),
        issue_date=tx.created_at.date(), currency=tx.currency, seller=_seller(deps),
        buyer=_buyer(tx.customer),
        lines=(Line(description=tx.description or "Payment", net_cents=net,
                    tax_cents=tx.tax_cents, total_cents=tx.amount_cents),),
        net_cents=net, tax_cents=tx.tax_cents, total_cents=tx.amount_cents,
        payment_system=tx.gateway_label, paid_at=tx.created_at, credits=credits,
        balance_cents=balance)


def last_sent(tx_id):
    """The last successful re-send of this payment's invoice (from the audit log), or None."""
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.target_type == Transaction.__tablename__,
               AuditEvent.target_id == tx_id, AuditEvent.action == "invoice.resend",
               AuditEvent.outcome == "succeeded")
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(1))
    if event is None:
        return None
    return Sent(at=event.created_at, to=(event.after or {}).get("to", ""))


def invoice_message(invoice, render):
    """The email: HTML body, plain-text alternative and the invoice as a PDF attachment."""
    name = " ".join(invoice.buyer.name.split())  # no line breaks can reach a header
    message = Message(subject=f"Invoice {invoice.label} from {invoice.seller.name}",
                      recipients=[(name, invoice.buyer.email)],
                      body=invoice_text(invoice, render), html=invoice_html(invoice, render))
    message.attach(invoice.pdf_filename, "application/pdf", invoice_pdf(invoice, render))
    logo = seller_logo(invoice.seller.logo_path)
    if logo:
        message.attach(f"logo{mimetypes.guess_extension(logo[0])}", logo[0], logo[1], "inline",
                       headers={"Content-ID": f"<{LOGO_CID}>"})
    return message


def resend_invoice(deps, actor, tx_id):
    """Email the invoice to the customer; audited; EmailFailed (audited) if the send fails."""
    require(actor, "resend_invoice")
    invoice = build_invoice(deps, tx_id)
    to = invoice.buyer.email
    if not to:
        raise InvalidRequest("This customer has no email address; nothing was sent.")
    message = invoice_message(invoice, deps.render)
    target = (Transaction.__tablename__, tx_id)
    details = {"to": to, "invoice": invoice.label}
    db.session.rollback()  # only reads so far: no database transaction stays open over SMTP
    try:
        deps.send_mail(message, what="the invoice email")
    except EmailFailed as exc:
        audit.record(actor, "invoice.resend", target, outcome="failed", after=details,
                     message=exc.message)
        db.session.commit()
        exc.audited = True
        raise
    audit.record(actor, "invoice.resend", target, outcome="succeeded", after=details)
    db.session.commit()
    return ActionResult(f"Invoice {invoice.label} was sent to {to}.")


def download_invoice(deps, actor, tx_id):
    """The invoice's PDF (the very one the re-send attaches) as (filename, bytes), for any
    admin who may see the invoice; each download is audited, as documents leaving the panel
    are (the CSV export, the re-send)."""
    require(actor, "view")
    invoice = build_invoice(deps, tx_id)
    pdf = invoice_pdf(invoice, deps.render)
    audit.record(actor, "invoice.download", (Transaction.__tablename__, tx_id),
                 outcome="succeeded", after={"invoice": invoice.label})
    db.session.commit()
    return invoice.pdf_filename, pdf


class ResendForm(FlaskForm):
    """Nothing to fill in: the form only carries the CSRF token."""


def _context(tx, deps):
    if tx.invoice_number is None:
        return {"invoice": None}
    invoice = build_invoice(deps, tx.id)
    return {"invoice": invoice, "last_sent": last_sent(tx.id),
            "logo": logo_data_uri(invoice.seller.logo_path)}


ACTION = RowAction(
    name="invoice", title="Invoice", icon="fa-file-text-o", permission="view",
    submit_permission="resend_invoice", template="actions/invoice.html",
    form=lambda tx, deps: ResendForm(),
    perform=lambda tx, form, actor, deps: resend_invoice(deps, actor, tx.id),
    context=_context,
    available=lambda tx: tx.invoice_number is not None,
    unavailable_message=lambda tx: f"This payment has no invoice (it is {tx.status}); "
                                   "only completed payments get one.",
    submit_label="Re-send to customer")
