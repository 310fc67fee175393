"""The profile's Timeline tab over HTTP, on SQLite and PostgreSQL: a refund made in the panel
and one made at Stripe (its webhook delivered by the sandbox over real HTTP) each show with
their author; notes: support adds one (escaped, audited), a viewer's POST is refused on the
server, a too-long note gets a message; dates in the store's time zone; pages by cursor."""
from datetime import datetime, timedelta, timezone

import lxml.html
import requests
from sqlalchemy import func, select

from models import AuditEvent, CustomerNote, NOTE_MAX_LENGTH, Refund, WebhookEvent, db
from tests import factories
from tests.gateway_sandbox import wait_for_delivery
from tests.conftest import csrf_token, login


def timeline(client, customer_id, before=None):
    """[(kind, title, amount, who, date)] of one page, and the Older link (or None)."""
    url = f"/admin/customer/profile/{customer_id}/timeline/"
    response = client.get(url, query_string={"before": before} if before else None)
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    rows = [(li.get("data-kind"), li.findtext(".//*[@class='md-tl-title font-weight-bold']"),
             (li.xpath(".//*[@class='md-tl-amount']/text()") or [None])[0],
             li.xpath(".//*[@class='md-tl-who']/text()")[0],
             li.xpath(".//*[contains(@class,'md-date')]/text()")[0])
            for li in doc.xpath("//li[contains(@class,'md-tl-entry')]")]
    older = doc.xpath("//a[contains(@class,'md-timeline-older')]/@href")
    return rows, older[0] if older else None


def test_a_panel_refund_and_a_refund_made_at_stripe_each_show_their_author(app, client,
                                                                            delivering):
    sb = delivering.sandbox
    with sb.lock:
        cus = sb.stripe.customer(email="ada@example.com", name="Ada Lovelace", country="GB")
        charge = sb.stripe.payment(customer=cus["id"], amount=5000, currency="usd",
                                   created=sb.now() - 86400, description="Pro course")
    customer = factories.customer(name="Ada Lovelace", email="ada@example.com",
                                  stripe_customer_id=cus["id"])
    tx = factories.payment(customer, 5000, gateway_ref=charge["payment_intent"],
                           description="Pro course")
    db.session.commit()
    login(client, "finance")

    # 1. a refund from the panel's refund pop-up
    modal = client.get(f"/admin/transaction/action/refund/{tx.id}/?modal=1").get_data(
        as_text=True)
    key = lxml.html.fromstring(modal).xpath("//input[@name='request_key']/@value")[0]
    page = client.post(f"/admin/transaction/action/refund/{tx.id}/", follow_redirects=True,
                       data={"amount": "15.00", "reason": "requested_by_customer", "note": "",
                             "request_key": key,
                             "csrf_token": csrf_token(client, "/admin/customer/")})
    assert "Refunded $15.00 through Stripe." in page.get_data(as_text=True)
    # 2. a refund made at Stripe (its dashboard): the panel learns of it by webhook only
    made = requests.post(f"{delivering.stripe_base}/v1/refunds", timeout=10,
                         headers={"Authorization": f"Bearer {sb.stripe_key}"},
                         data={"payment_intent": charge["payment_intent"], "amount": "1000"})
    assert made.status_code == 200, made.text
    assert sb.deliveries.drain(20)
    assert wait_for_delivery(lambda: db.session.scalar(
        select(func.count(Refund.id)).where(Refund.status == "succeeded")) == 2)
    delivered = [(v, status) for v, _, t, status in sb.deliveries.log if t == "refund.created"]
    assert delivered == [("stripe", 200), ("stripe", 200)]  # over HTTP, to the panel

    login(client, "viewer", "viewer@example.com")  # every role that may view sees it
    rows, older = timeline(client, customer.id)
    # (Stripe's refund carries Stripe's time, whole seconds: the two may share a second)
    refunds = {(title, amount, who) for kind, title, amount, who, _ in rows if kind == "refund"}
    assert refunds == {("Refund succeeded", "$10.00", "Stripe"),
                       ("Refund succeeded", "$15.00", "finance@example.com")}
    assert ("payment", "Payment succeeded", "$50.00", "Stripe") in [r[:4] for r in rows]
    hooks = {title for kind, title, _, who, _ in rows if kind == "webhook" and who == "Stripe"}
    assert "Webhook received: refund.created" in hooks  # the webhooks that changed her records
    assert older is None
    assert db.session.scalar(select(func.count(WebhookEvent.id)).where(
        WebhookEvent.customer_id == customer.id)) >= 1


def test_support_adds_a_note_shown_escaped_and_audited(app, client):
    customer = factories.customer(name="Grace Hopper")
    db.session.commit()
    login(client, "support")
    token = csrf_token(client, "/admin/customer/")
    page = client.post(f"/admin/customer/profile/{customer.id}/notes/", follow_redirects=True,
                       data={"note": "<script>alert(1)</script> & called", "csrf_token": token})
    html = page.get_data(as_text=True)
    assert "Added a note to Grace Hopper." in html
    assert page.request.args.get("tab") == "timeline"  # the profile reopens on its Timeline
    fragment = client.get(f"/admin/customer/profile/{customer.id}/timeline/").get_data(
        as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; called" in fragment
    assert "<script>alert(1)" not in fragment
    assert 'id="md-note-form"' in fragment
    (entry,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.note"))
    assert (entry.actor_email, entry.outcome, entry.target_id) == \
        ("support@example.com", "succeeded", customer.id)


def test_a_viewers_note_post_is_refused_on_the_server(app, client):
    customer = factories.customer()
    db.session.commit()
    login(client, "viewer")
    fragment = client.get(f"/admin/customer/profile/{customer.id}/timeline/").get_data(
        as_text=True)
    assert 'id="md-note-form"' not in fragment  # hidden ...
    page = client.post(f"/admin/customer/profile/{customer.id}/notes/", follow_redirects=True,
                       data={"note": "let me in", "csrf_token": csrf_token(client,
                                                                           "/admin/customer/")})
    assert "Your role (viewer) does not allow this (add note)" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CustomerNote.id))) == 0  # ... and refused
    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.note"))
    assert (denied.outcome, denied.actor_email) == ("denied", "viewer@example.com")


def test_a_note_without_csrf_or_too_long_changes_nothing(app, client):
    customer = factories.customer()
    db.session.commit()
    login(client, "support")
    url = f"/admin/customer/profile/{customer.id}/notes/"
    assert client.post(url, data={"note": "no token"}).status_code == 400
    page = client.post(url, follow_redirects=True, data={
        "note": "x" * (NOTE_MAX_LENGTH + 5), "csrf_token": csrf_token(client, "/admin/customer/")})
    assert f"at most {NOTE_MAX_LENGTH:,} characters long; this one has " \
           f"{NOTE_MAX_LENGTH + 5:,}" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CustomerNote.id))) == 0


def test_dates_are_store_local_and_older_pages_follow_the_cursor(app, client):
    app.config["STORE_TIMEZONE"] = "America/Los_Angeles"
    customer = factories.customer()
    start = datetime(2026, 12, 20, 2, 0, tzinfo=timezone.utc)  # 19 Dec 6:00 PM in LA
    for n in range(30):
        factories.payment(customer, 100 + n, created_at=start - timedelta(days=n))
    db.session.commit()
    login(client, "viewer")
    first, older = timeline(client, customer.id)
    assert len(first) == 25 and older
    assert first[0][2:] == ("$1.00", "Stripe", "19 Dec 2026, 6:00\u202fPM")
    assert first[1][4] == "18 Dec 2026, 6:00\u202fPM"
    second, last = timeline(client, customer.id, before=older.split("before=")[1])
    assert [r[2] for r in second] == ["$1.25", "$1.26", "$1.27", "$1.28", "$1.29"]
    assert last is None
    bad = client.get(f"/admin/customer/profile/{customer.id}/timeline/?before=12.x")
    assert bad.status_code == 400 and "does not exist" in bad.get_data(as_text=True)
    assert client.get("/admin/customer/profile/999999/timeline/").status_code == 404
