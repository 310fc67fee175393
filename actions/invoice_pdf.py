"""Render an invoice: one template for the pop-up, the email's HTML and the PDF."""
import base64
import io
import mimetypes
from pathlib import Path


LOGO_TYPES = ("image/png", "image/jpeg", "image/gif")
LOGO_MAX_BYTES = 512 * 1024
# A font with more than Latin-1 for names such as "Łukasz" (Debian: fonts-dejavu-core);
# without it the PDF falls back to Helvetica.
PDF_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")


LOGO_CID = "seller-logo@memberdesk"


def seller_logo(path, base_dir=""):
    """SELLER_LOGO as (mimetype, bytes), or None when it is not a readable PNG/JPEG/GIF file.

    A relative path is read from base_dir (the instance folder)."""
    if not path:
        return None
    file = Path(base_dir or ".") / path
    kind = mimetypes.guess_type(file.name)[0]
    try:
        if kind not in LOGO_TYPES or file.stat().st_size > LOGO_MAX_BYTES:
            return None
        return kind, file.read_bytes()
    except OSError:
        return None


def logo_data_uri(path, base_dir=""):
    """SELLER_LOGO as a data: URI (pop-up and PDF), or None."""
    logo = seller_logo(path, base_dir)
    if logo is None:
        return None
    return f"data:{logo[0]};base64,{base64.b64encode(logo[1]).decode('ascii')}"


def _pdf_font_dir():
    return next((d for d in PDF_FONT_DIRS if Path(d, "DejaVuSans.ttf").is_file()), None)


def _policy(font_dir):
    """Nothing from the network, nothing local but the font (the logo is a data: URI)."""
    from xhtml2pdf.config.resources import ResourceAccessPolicy
    return ResourceAccessPolicy(allow_remote=False, base_dir=None,
                                extra_roots=(Path(font_dir),) if font_dir else (),
                                max_render_seconds=30)


def invoice_html(invoice, render, *, for_pdf=False):
    """The invoice as a whole HTML document: the email body (logo as cid:), or the PDF's.

    `render(template, **context)` is the app's template renderer (deps.render)."""
    if for_pdf:
        logo = logo_data_uri(invoice.seller.logo_path)
    else:
        logo = f"cid:{LOGO_CID}" if seller_logo(invoice.seller.logo_path) else None
    return render("invoice/invoice.html", invoice=invoice, document=True,
                           for_pdf=for_pdf, logo=logo,
                           pdf_font_dir=_pdf_font_dir() if for_pdf else None)


def invoice_text(invoice, render):
    """The plain-text alternative of the invoice email."""
    return render("email/invoice.txt", invoice=invoice)


def invoice_pdf(invoice, render):
    """The invoice as PDF bytes (xhtml2pdf)."""
    # Imported here, at the first PDF: xhtml2pdf with reportlab, Pillow, pypdf and lxml is
    # about 36 MB of every process's memory, and most processes (list pages, exports, the
    # webhook and job workers) never render a PDF.
    from xhtml2pdf import pisa
    out = io.BytesIO()
    status = pisa.CreatePDF(invoice_html(invoice, render, for_pdf=True), dest=out, encoding="utf-8",
                            resource_policy=_policy(_pdf_font_dir()))
    if status.err:
        raise RuntimeError(f"xhtml2pdf could not render invoice {invoice.label}")
    return out.getvalue()
