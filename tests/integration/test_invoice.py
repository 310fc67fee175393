"""The Invoice row action through the admin, with a real SMTP server (aiosmtpd) on loopback."""
import io
import socket
from datetime import timedelta

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from models import AuditEvent, Refund, db
from tests import factories
from tests.conftest import csrf_token, login
from tests.factories import BASE_TIME
from tests.fakes.smtp_server import closed_port, point_mail_at

LIST = "/admin/transaction/"


@pytest.fixture
def sale(app):
    """A €119.00 Stripe payment (€19.00 VAT), invoice 123, with a €20.00 refund."""
    app.config.update(SELLER_NAME="Demo Academy GmbH", SELLER_ADDRESS="Hauptstraße 1, Berlin",
                      SELLER_VAT_ID="DE811111111")
    customer = factories.customer(name="Ada Lovelace", email="ada@example.com",
                                  company="Analytical Engines Ltd", country="GB",
                                  vat_number="GB123456789", city="London")
    tx = factories.payment(customer, 11900, tax_cents=1900, currency="EUR",
                           description="Pro plan, one year", invoice_number=123)
    db.session.add(Refund(transaction_id=tx.id, amount_cents=2000, currency="EUR",
                          status="succeeded", completed_at=BASE_TIME + timedelta(days=5)))
    db.session.add(Refund(transaction_id=tx.id, amount_cents=700, currency="EUR",
                          status="pending"))
    tx.refunded_cents = 2000
    db.session.commit()
    return tx.id


def _modal(client, tx_id):
    response = client.get(f"{LIST}action/invoice/{tx_id}/?modal=1&url={LIST}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _resend(client, tx_id, csrf=True):
    data = {"csrf_token": csrf_token(client, LIST)} if csrf else {}
    return client.post(f"{LIST}action/invoice/{tx_id}/?url={LIST}", data=data,
                       follow_redirects=True)


def _events(outcome=None):
    db.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action != "login").order_by(AuditEvent.id)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    return db.session.scalars(query).all()


def test_modal_shows_the_invoice(client, sale):
    login(client, "support")
    html = _modal(client, sale)
    for shown in ("INV-000123", "Demo Academy GmbH", "Hauptstraße 1, Berlin", "DE811111111",
                  "Ada Lovelace", "Analytical Engines Ltd", "UNITED KINGDOM",
                  "VAT number: GB123456789", "€100.00", "€19.00", "€119.00", "Stripe",
                  "Refund (Requested by customer)", "-€20.00", "€99.00",
                  "Not sent from Memberdesk yet.", "Re-send to customer", 'name="csrf_token"'):
        assert shown in html, shown
    assert "-€7.00" not in html  # a pending refund is no credit yet


def test_list_shows_invoice_button_only_where_there_is_an_invoice(client, sale):
    login(client, "viewer")
    failed = factories.payment(factories.customer(), 999, status="failed")
    db.session.commit()
    page = client.get(LIST).get_data(as_text=True)
    assert f"action/invoice/{sale}/" in page
    assert f"action/invoice/{failed.id}/" not in page


def test_resend_emails_html_text_and_pdf(client, sale, smtp_server):
    login(client, "support")
    page = _resend(client, sale).get_data(as_text=True)

    assert "Invoice INV-000123 was sent to ada@example.com." in page
    (received,) = smtp_server.messages
    assert received.rcpt_tos == ["ada@example.com"]
    message = received.message
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message["Subject"] == "Invoice INV-000123 from Demo Academy GmbH"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "INV-000123" in html and "€119.00" in html and "-€20.00" in html
    assert "INV-000123" in text and "Total: €119.00 (EUR)" in text
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "invoice-INV-000123.pdf"
    pdf_text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "INV-000123" in pdf_text and "€119.00" in pdf_text

    (event,) = _events("succeeded")
    assert event.action == "invoice.resend" and event.actor_email == "support@example.com"
    assert event.target_type == "transaction" and event.target_id == sale
    assert event.after == {"to": "ada@example.com", "invoice": "INV-000123"}
    html = _modal(client, sale)
    assert "Last sent " in html and " to ada@example.com." in html


def test_no_database_connection_is_held_during_the_smtp_call(client, sale, smtp_server):
    login(client, "support")
    db.session.close()  # the test's own session holds nothing either
    pool, in_use = db.engine.pool, []
    smtp_server.while_receiving(lambda: in_use.append(pool.checkedout()))

    _resend(client, sale)

    assert in_use == [0] and len(_events("succeeded")) == 1


def test_logo_goes_inline_and_no_line_is_too_long_for_smtp(app, client, sale, smtp_server,
                                                          tmp_path):
    logo = tmp_path / "logo.png"
    Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48).save(logo)
    app.config["SELLER_LOGO"] = str(logo)
    login(client, "support")
    assert 'src="data:image/png;base64,' in _modal(client, sale)

    _resend(client, sale)

    (received,) = smtp_server.messages
    assert max(len(line) for line in received.raw.splitlines()) <= 998
    assert 'src="cid:seller-logo@memberdesk"' in received.message.get_body(("html",)).get_content()
    inline = [part for part in received.message.walk() if part["Content-ID"]]
    assert [(p["Content-ID"], p.get_content_type()) for p in inline] == \
        [("<seller-logo@memberdesk>", "image/png")]
    assert inline[0].get_content() == logo.read_bytes()


def test_resend_without_csrf_is_refused(client, sale, smtp_server):
    login(client, "support")
    response = _resend(client, sale, csrf=False)
    assert response.status_code == 400
    assert smtp_server.messages == [] and _events() == []


def test_viewer_sees_the_invoice_but_cannot_resend(client, sale, smtp_server):
    login(client, "viewer")
    html = _modal(client, sale)
    assert "INV-000123" in html and "Re-send to customer" not in html

    page = _resend(client, sale).get_data(as_text=True)
    assert "Your role (viewer) does not allow “Invoice” (resend invoice); nothing was changed." in page
    assert smtp_server.messages == []
    (event,) = _events()
    assert event.outcome == "denied" and event.actor_email == "viewer@example.com"


def test_mail_server_refusal_is_reported_and_audited(client, sale, smtp_server):
    login(client, "support")
    smtp_server.refuse("550 5.1.1 Mailbox unavailable")
    page = _resend(client, sale).get_data(as_text=True)

    assert ("The mail server refused the invoice email: 550 5.1.1 Mailbox unavailable; "
            "nothing was sent.") in page
    assert smtp_server.messages == []
    (event,) = _events()
    assert event.action == "invoice.resend" and event.outcome == "failed"
    assert "550 5.1.1 Mailbox unavailable" in event.message
    assert "Not sent from Memberdesk yet." in _modal(client, sale)


def test_unreachable_mail_server_is_reported(app, client, sale):
    login(client, "support")
    port = closed_port()
    point_mail_at(app, "127.0.0.1", port)
    page = _resend(client, sale).get_data(as_text=True)

    assert f"The mail server at 127.0.0.1:{port} could not be reached" in page
    assert "nothing was sent." in page
    (event,) = _events()
    assert event.outcome == "failed" and f"127.0.0.1:{port}" in event.message


def test_silent_mail_server_times_out_after_mail_timeout(app, client, sale):
    login(client, "support")
    with socket.socket() as silent:  # accepts connections, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        point_mail_at(app, "127.0.0.1", silent.getsockname()[1])
        app.config["MAIL_TIMEOUT"] = 1
        page = _resend(client, sale).get_data(as_text=True)

    assert "could not be reached (Connection unexpectedly closed: timed out); " \
        "nothing was sent." in page
    assert _events("failed")


def test_payment_without_invoice_cannot_be_resent(client, smtp_server):
    login(client, "support")
    tx = factories.payment(factories.customer(), 999, status="failed")
    db.session.commit()
    assert "This payment has no invoice" in _modal(client, tx.id)

    page = _resend(client, tx.id).get_data(as_text=True)
    assert "This payment has no invoice (it is failed)" in page
    assert smtp_server.messages == []


def test_addresses_follow_the_country_convention_in_popup_email_and_pdf(client, sale,
                                                                      smtp_server):
    """US addresses read "Tucson, AZ 85701", not "85701 Tucson, AZ"; German ones "10117 Berlin"."""
    from models import Transaction
    customer = db.session.get(Transaction, sale).customer
    customer.address, customer.city, customer.state = "200 N Stone Ave", "Tucson", "AZ"
    customer.postal_code, customer.country = "85701", "US"
    db.session.commit()
    login(client, "support")
    assert "200 N Stone Ave<br>TUCSON, AZ 85701<br>UNITED STATES" in _modal(client, sale)

    _resend(client, sale)
    message = smtp_server.messages[0].message
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    (attachment,) = message.iter_attachments()
    pdf_text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "200 N Stone Ave<br>TUCSON, AZ 85701<br>UNITED STATES" in html
    assert "      200 N Stone Ave\n      TUCSON, AZ 85701\n      UNITED STATES\n" in \
        text.replace("\r\n", "\n")
    assert "TUCSON, AZ 85701" in pdf_text and "85701 TUCSON" not in pdf_text.upper()

    customer = db.session.get(Transaction, sale).customer
    customer.address, customer.city, customer.state = "Unter den Linden 1", "Berlin", None
    customer.postal_code, customer.country = "10117", "DE"
    db.session.commit()
    assert "Unter den Linden 1<br>10117 BERLIN<br>GERMANY" in _modal(client, sale)


def _pdf_text(data):
    return PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_download_pdf_is_the_emailed_pdf_as_an_attachment_and_audited(client, sale,
                                                                       smtp_server):
    login(client, "viewer")  # whoever may see the invoice may download it
    pdf_url = f"{LIST}invoice/{sale}/pdf"
    assert f'href="{pdf_url}"' in _modal(client, sale) and "Download PDF" in _modal(client, sale)

    response = client.get(pdf_url)

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="invoice-INV-000123.pdf"'
    downloaded = _pdf_text(response.data)
    assert "INV-000123" in downloaded and "€119.00" in downloaded and "-€20.00" in downloaded
    (event,) = _events()
    assert (event.action, event.outcome, event.actor_email) == \
        ("invoice.download", "succeeded", "viewer@example.com")
    assert (event.target_type, event.target_id, event.after) == \
        ("transaction", sale, {"invoice": "INV-000123"})

    login(client, "support")
    _resend(client, sale)
    (attachment,) = smtp_server.messages[0].message.iter_attachments()
    assert _pdf_text(attachment.get_content()) == downloaded  # one PDF, two ways out


def test_download_pdf_requires_login_and_an_invoice(client, sale):
    response = client.get(f"{LIST}invoice/{sale}/pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _events() == []

    login(client, "viewer")
    failed = factories.payment(factories.customer(), 999, status="failed")
    db.session.commit()
    assert client.get(f"{LIST}invoice/{failed.id}/pdf").status_code == 404
    assert client.get(f"{LIST}invoice/987654321/pdf").status_code == 404
    assert _events() == []


def test_one_invoice_number_format_in_list_profile_popup_and_email(client, sale):
    from models import Transaction
    login(client, "viewer")
    customer_id = db.session.get(Transaction, sale).customer_id
    listing = client.get(LIST).get_data(as_text=True)
    profile = client.get(f"/admin/customer/profile/{customer_id}/?modal=1").get_data(as_text=True)
    popup = _modal(client, sale)
    for page in (listing, profile, popup):
        assert "INV-000123" in page
        assert ">123<" not in page and "Invoice 123" not in page
