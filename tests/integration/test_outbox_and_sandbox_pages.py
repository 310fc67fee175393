"""The demo's outbox (e-mails kept, attachments and all, shown to owners), the banner while a
gateway points at the sandbox, and the owners' Sandbox page moving the sandbox's clock."""
import pytest

from sandbox import Server
from tests.conftest import csrf_token, login
from tests.integration.test_invoice import _resend, sale  # noqa: F401 (the fixture)

BANNER = "Sandbox — no real money moves"


def test_a_resent_invoice_waits_in_the_outbox_with_its_pdf(app, client, sale, tmp_path):  # noqa: F811
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    login(client, "support")
    page = _resend(client, sale).get_data(as_text=True)
    assert "Invoice INV-000123 was sent to ada@example.com." in page
    assert client.get("/admin/outbox/").status_code == 403  # owners only
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/customer/")})
    login(client, "owner")
    outbox = client.get("/admin/outbox/").get_data(as_text=True)
    assert "Invoice INV-000123 from Demo Academy GmbH" in outbox
    assert "Ada Lovelace &lt;ada@example.com&gt;" in outbox and "invoice-INV-000123.pdf" in outbox
    (name,) = [p.name for p in (tmp_path / "outbox").glob("*.eml")]
    pdf = client.get(f"/admin/outbox/{name}/0")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/admin/outbox/../secret_key/0").status_code == 404


def test_without_an_outbox_the_page_is_not_in_the_menu(app, client):
    login(client, "owner")
    assert "/admin/outbox/" not in client.get("/admin/customer/").get_data(as_text=True)


@pytest.fixture
def sandbox_server():
    server = Server().start()
    try:
        yield server
    finally:
        server.stop()


def test_the_banner_shows_while_a_gateway_points_at_the_sandbox(app, client, sandbox_server):
    login(client, "viewer")
    assert BANNER not in client.get("/admin/customer/").get_data(as_text=True)
    app.config.update(sandbox_server.config(), SANDBOX_URL=sandbox_server.url)
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert BANNER in page and "Stripe and PayPal are a sandbox" in page
    app.config["STRIPE_API_BASE"] = "https://api.stripe.com"
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert BANNER in page and "PayPal is a sandbox" in page


def test_owners_move_the_sandbox_clock_from_its_page(app, client, sandbox_server):
    app.config.update(sandbox_server.config(), SANDBOX_URL=sandbox_server.url)
    sb = sandbox_server.sandbox
    login(client, "finance")
    assert client.get("/admin/sandbox/").status_code == 403
    response = client.post("/admin/sandbox/advance", data={
        "days": "10", "csrf_token": csrf_token(client, "/admin/customer/")})
    assert response.status_code == 403 and sb.offset == 0
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/customer/")})
    login(client, "owner")
    token = csrf_token(client, "/admin/sandbox/")
    page = client.post("/admin/sandbox/advance", data={"days": "-3", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "between 1 and 400" in page and sb.offset == 0
    for days in ("\u0661\u0660", "0.5", "nan"):  # the one digit rule: whole ASCII days
        page = client.post("/admin/sandbox/advance", data={"days": days, "csrf_token": token},
                           follow_redirects=True).get_data(as_text=True)
        assert "between 1 and 400" in page and sb.offset == 0
    page = client.post("/admin/sandbox/advance", data={"days": "10", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "The sandbox clock moved 10 day(s)" in page and sb.offset == 10 * 86400
    page = client.post("/admin/sandbox/control/decline", data={"ref": "sub_nope",
                                                               "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "the sandbox has no subscription sub_nope" in page
