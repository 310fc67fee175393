"""build_invoice() from the database: numbers, tax, refunds as credit lines, currencies;
rendering and last_sent."""
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from actions import audit
from actions.errors import InvalidRequest
from flask import render_template

from actions import invoice as invoice_module
from actions.invoice import last_sent
from admin_app.composition import deps_from_app
from models import Refund, db
from tests import factories
from tests.factories import BASE_TIME


def build_invoice(tx_id):
    return invoice_module.build_invoice(deps_from_app(), tx_id)


def invoice_html(invoice, **kwargs):
    return invoice_module.invoice_html(invoice, render_template, **kwargs)


def invoice_text(invoice):
    return invoice_module.invoice_text(invoice, render_template)


def invoice_pdf(invoice):
    return invoice_module.invoice_pdf(invoice, render_template)


def _refund(tx, amount_cents, status="succeeded", days=3):
    refund = Refund(transaction_id=tx.id, amount_cents=amount_cents, currency=tx.currency,
                    status=status, created_at=BASE_TIME + timedelta(days=days),
                    completed_at=BASE_TIME + timedelta(days=days) if status == "succeeded"
                    else None)
    db.session.add(refund)
    if status == "succeeded":
        tx.refunded_cents += amount_cents
    db.session.flush()
    return refund


@pytest.fixture
def buyer(app):
    return factories.customer(
        name="Ada Lovelace", email="ada@example.com", company="Analytical Engines Ltd",
        company_id="HRB 4711", address="12 St James's Square", city="London",
        state="Greater London", postal_code="SW1Y 4JH", country="GB", vat_number="GB123456789",
        tax_id="UTR-99")


def test_tax_is_split_from_the_gross_amount(app, buyer):
    app.config.update(SELLER_NAME="Demo Academy", SELLER_ADDRESS="1 Main St\nSpringfield",
                      SELLER_VAT_ID="US-EIN-12")
    tx = factories.payment(buyer, 11900, tax_cents=1900, currency="EUR",
                           description="Pro plan, one year", invoice_number=123)
    db.session.commit()

    invoice = build_invoice(tx.id)

    assert invoice.number == 123 and invoice.label == "INV-000123"
    assert invoice.pdf_filename == "invoice-INV-000123.pdf"
    assert invoice.issue_date == tx.created_at.date() and invoice.paid_at == tx.created_at
    assert (invoice.net_cents, invoice.tax_cents, invoice.total_cents) == (10000, 1900, 11900)
    (line,) = invoice.lines
    assert (line.description, line.net_cents, line.tax_cents, line.total_cents) == \
        ("Pro plan, one year", 10000, 1900, 11900)
    assert invoice.currency == "EUR" and invoice.payment_system == "Stripe"
    assert invoice.credits == () and invoice.balance_cents == 11900
    assert invoice.seller.name == "Demo Academy" and invoice.seller.vat_id == "US-EIN-12"
    assert invoice.buyer.vat_number == "GB123456789" and invoice.buyer.country == "GB"
    assert invoice.buyer.company_id == "HRB 4711" and invoice.buyer.tax_id == "UTR-99"


def test_succeeded_refunds_become_credit_lines_with_the_balance(app, buyer):
    tx = factories.payment(buyer, 10000, gateway="paypal")
    first = _refund(tx, 2500, days=3)
    _refund(tx, 1000, status="pending", days=4)
    _refund(tx, 500, status="failed", days=5)
    second = _refund(tx, 4000, days=6)
    db.session.commit()

    invoice = build_invoice(tx.id)

    assert invoice.payment_system == "PayPal"
    assert [(c.refund_id, c.amount_cents, c.balance_cents) for c in invoice.credits] == \
        [(first.id, 2500, 7500), (second.id, 4000, 3500)]
    assert invoice.credits[0].date == date(2026, 1, 4)
    assert invoice.credits[0].description == "Refund (Requested by customer)"
    assert invoice.balance_cents == 3500 and invoice.total_cents == 10000


def test_jpy_has_no_minor_units(app, buyer):
    tx = factories.payment(buyer, 1200, tax_cents=109, currency="JPY")
    _refund(tx, 200)
    db.session.commit()

    invoice = build_invoice(tx.id)
    html, text = invoice_html(invoice), invoice_text(invoice)

    assert (invoice.net_cents, invoice.tax_cents, invoice.balance_cents) == (1091, 109, 1000)
    for shown in ("¥1,200", "¥1,091", "¥109", "-¥200", "¥1,000"):
        assert shown in html and shown in text
    assert "¥12.00" not in html


def test_eur_amounts_and_buyer_details_are_printed(app, buyer):
    tx = factories.payment(buyer, 11900, tax_cents=1900, currency="EUR")
    db.session.commit()

    html = invoice_html(build_invoice(tx.id))

    for shown in ("€119.00", "€100.00", "€19.00", "Total (EUR)", "Analytical Engines Ltd",
                  "HRB 4711", "LONDON<br>SW1Y 4JH<br>UNITED KINGDOM",
                  "VAT number: GB123456789", "Tax ID: UTR-99"):
        assert shown in html


def test_payment_without_invoice_number_has_no_invoice(app, buyer):
    tx = factories.payment(buyer, 5000, status="failed")
    db.session.commit()

    with pytest.raises(InvalidRequest, match="has no invoice"):
        build_invoice(tx.id)


def test_pdf_is_readable_and_carries_number_and_total(app, buyer):
    tx = factories.payment(buyer, 4900, tax_cents=0, invoice_number=42)
    db.session.commit()

    pdf = invoice_pdf(build_invoice(tx.id))
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    assert pdf.startswith(b"%PDF") and "INV-000042" in text and "$49.00" in text


def test_logo_is_embedded_only_when_it_is_an_image_file(app, buyer, tmp_path):
    tx = factories.payment(buyer, 4900)
    db.session.commit()
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    app.config["SELLER_LOGO"] = str(png)
    invoice = build_invoice(tx.id)
    assert 'src="data:image/png;base64,' in invoice_html(invoice, for_pdf=True)
    assert 'src="cid:seller-logo@memberdesk"' in invoice_html(invoice)  # the email's

    app.config["SELLER_LOGO"] = str(tmp_path / "missing.png")
    assert "<img" not in invoice_html(build_invoice(tx.id), for_pdf=True)
    (tmp_path / "notes.txt").write_text("not a logo")
    app.config["SELLER_LOGO"] = str(tmp_path / "notes.txt")
    assert "<img" not in invoice_html(build_invoice(tx.id))


def test_last_sent_is_the_latest_successful_resend(app, buyer):
    tx = factories.payment(buyer, 4900)
    other = factories.payment(buyer, 4900)
    db.session.commit()
    assert last_sent(tx.id) is None

    first = audit.record(None, "invoice.resend", tx, outcome="succeeded", after={"to": "a@x.io"})
    audit.record(None, "invoice.resend", tx, outcome="failed", after={"to": "b@x.io"})
    audit.record(None, "invoice.resend", other, outcome="succeeded", after={"to": "c@x.io"})
    db.session.commit()
    assert last_sent(tx.id).to == "a@x.io" and last_sent(tx.id).at == first.created_at

    audit.record(None, "invoice.resend", tx, outcome="succeeded", after={"to": "d@x.io"})
    db.session.commit()
    assert last_sent(tx.id).to == "d@x.io"
