"""Issue 20: the requests the second probe listed, sent as it sent them, by every role and
anonymously, on one data set; the answers with status 500 are counted for docs/RELIABILITY.md
(0 expected). What each answer must be beyond "not a 500" is checked by the item's own tests
(test_second_probe, test_webhook_input, test_avatar_memory, test_customer_text,
test_csv_injection, tests/integration/test_login_throttle)."""
import io
import json
import re
import time

from models import Job, db
from tests import factories
from tests.conftest import PASSWORD, csrf_token, login, make_admin
from tests.fakes import paypal_webhooks as pw
from tests.fakes import stripe_events as se
from tests.hardening.images import inflating_png
from tests.integration.subscription_setup import configure, make
from tests.integration.test_jobs import BULK, gateway, make_payments  # noqa: F401 (fixture)
from tests.webhook_helpers import settle

BIG = str(2 ** 31)
DEEP = "[" * 50_000 + "]" * 50_000
ROLES = ["anonymous", "owner", "finance", "support", "viewer"]
BULK_URLS = ["/%09/evil.example", "/%0A/evil.example", "/%0D/evil.example"]


class Answers:
    def __init__(self):
        self.codes = []

    def __call__(self, what, response):
        self.codes.append((what, response.status_code))
        response.close()

    def errors(self):
        return [(what, code) for what, code in self.codes if code >= 500]


def _webhooks(client, answer):
    """Items 4, 5, 14, 15: unsigned and signed bodies that are not events."""
    def stripe(body, at=None):
        body = body if isinstance(body, str) else json.dumps(body)
        return client.post("/webhooks/stripe", data=body, content_type="application/json",
                           headers={"Stripe-Signature": se.sign(body, timestamp=at)})
    answer("4 unsigned 50,000 brackets to PayPal",
           client.post("/webhooks/paypal", data=DEEP, content_type="application/json"))
    good = se.event("customer.updated", se.customer())
    for name, body in {"a JSON array": "[1, 2]",
                       "no created": {k: v for k, v in good.items() if k != "created"},
                       "created text": dict(good, created="yesterday"),
                       "created out of range": dict(good, created=10 ** 20),
                       "deep nesting": '{"id": "evt_d", "data": ' + DEEP + "}",
                       "a NUL in the id": dict(good, id="evt_\x00x")}.items():
        answer(f"5 signed Stripe body: {name}", stripe(body))
    base = "evt_" + "7" * 251
    answer("14 Stripe id of 255", stripe(dict(good, id=base)))
    answer("14 Stripe id of 256, same first 255", stripe(dict(good, id=base + "X")))
    evt = pw.event("BILLING.SUBSCRIPTION.CANCELLED", {"id": "I-NOSUCH"})
    for event_id in ("WH-" + "7" * 252, "WH-" + "7" * 252 + "-other"):
        body = pw.body(dict(evt, id=event_id))
        answer(f"14 PayPal id of {len(event_id)}", client.post(
            "/webhooks/paypal", data=body, content_type="application/json",
            headers=pw.sign(body)))
    answer("15 Stripe event signed an hour ahead",
           stripe(se.event("customer.updated", se.customer()), at=time.time() + 3600))
    answer("2/13 a name <TAB>=1+1 by webhook", stripe(se.event(
        "customer.created", se.customer(email="tab@example.com", name="\t=1+1"))))
    settle()


def _as_role(c, role, answer, ids):
    """Items 6-9, 13, 16 (and 10-12's forms): each request as `role`."""
    token = csrf_token(c, "/admin/" if role != "anonymous" else "/login")
    for verb in ("role", "active", "end-sessions", "password-link"):
        answer(f"6 POST /admin/users/{BIG}/{verb}", c.post(
            f"/admin/users/{BIG}/{verb}", data={"csrf_token": token, "role": "viewer",
                                                "active": "0"}))
    answer("6 preview plan=2^31", c.get(
        f"/admin/subscription/preview/{ids['sub']}/?kind=plan&plan={BIG}"))
    answer("8 job rows_page=99999999999999999", c.get(
        f"/admin/jobs/job/{ids['job']}/?rows_page=99999999999999999"))
    for url in BULK_URLS + ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example"]:
        answer(f"9 bulk confirmation url={url!r}", c.get(f"{BULK}?ids={ids['tx']}&url={url}"))
    answer("16 job status.json", c.get(f"/admin/jobs/job/{ids['job']}/status.json"))
    answer("16 subscription preview", c.get(
        f"/admin/subscription/preview/{ids['sub']}/?kind=price&amount=45.00&effective=now"))
    edit = f"/admin/customer/edit/?id={ids['customer']}"
    for chunk in (b"zTXt", b"iCCP"):
        answer(f"7 avatar with an inflating {chunk.decode()}", c.post(edit, data={
            "csrf_token": token, "name": "Ada", "email": "ada@example.com", "country": "",
            "avatar": (io.BytesIO(inflating_png(chunk)), "me.png")},
            content_type="multipart/form-data"))
    for field, value in (("address", "1 Engine\u200fRow"), ("tax_id", "\x7f\x01\x02")):
        answer(f"13 {field}={value!r}", c.post(edit, data={
            "csrf_token": token, "name": "Ada", "email": "ada@example.com", "country": "",
            field: value}, content_type="multipart/form-data"))
    change = f"/admin/subscription/action/%s/{ids['sub']}/?url=/admin/subscription/"
    for when in ("١٢٣", "123", "9" * 20):
        answer(f"10/11 proration_date={when}", c.post(change % "subscription_price", data={
            "csrf_token": token, "amount": "45.00", "effective": "now",
            "proration_date": when, "request_key": f"p-{time.time_ns()}"}))
    for day in ("٢٠٢٧-01-01", "9999-12-31"):
        answer(f"10/12 pause until {day}", c.post(change % "subscription_pause", data={
            "csrf_token": token, "resumes_on": day, "request_key": f"q-{time.time_ns()}"}))
    page = c.get(f"{BULK}?ids={ids['tx']}").get_data(as_text=True)
    key = re.search(r'name="request_key"[^>]*value="([^"]+)"', page)
    answer("10 bulk refund typed count ١", c.post(f"{BULK}?ids={ids['tx']}", data={
        "csrf_token": token, "request_key": key.group(1) if key else "k" * 32,
        "expected_count": "1", "typed_count": "١", "reason": "other"}))


def test_the_second_probes_requests_get_no_500(app, client, gateway, sandbox,  # noqa: F811
                                               paypal_hooks, reliability):
    app.config.update(STRIPE_WEBHOOK_SECRET=se.SECRET, WEBHOOK_RETRY_DELAY=0,
                      WEBHOOK_MAX_ATTEMPTS=1, **paypal_hooks.config())
    configure(app, sandbox)
    sub = make("stripe", sandbox)
    [tx] = make_payments(1)
    customer = factories.customer(name="Ada", email="ada@example.com")
    owner = make_admin("owner", "boss@example.com")
    job = Job(actor_id=owner.id, action="refund_remaining", title="Refund",
              scope={"view": "transaction", "ids": []}, params={}, state="done")
    db.session.add(job)
    db.session.commit()
    ids = {"sub": sub.sub_id, "tx": tx, "customer": customer.id, "job": job.id}
    answer = Answers()

    # item 1: 10 addresses guess the owner's password, then the owner logs in
    for _round in range(6):
        for n in range(10):
            guest = app.test_client()
            answer("1 a stranger's guess", guest.post("/login", data={
                "email": "boss@example.com", "password": "guess",
                "csrf_token": csrf_token(guest)}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}))
    boss = app.test_client()
    owner_login = boss.post("/login", data={"email": "boss@example.com", "password": PASSWORD,
                                            "csrf_token": csrf_token(boss)},
                            environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert owner_login.status_code == 302
    answer("1 the owner after the guesses", owner_login)

    _webhooks(client, answer)
    for role in ROLES:
        c = app.test_client()
        if role != "anonymous":
            login(c, role, email=f"{role}-probe@example.com")
        _as_role(c, role, answer, ids)

    reliability.count("probe_requests", len(answer.codes))
    assert answer.errors() == []
