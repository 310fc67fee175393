"""Issue 20: broad generators (hypothesis) around the second probe's requests that
tests/hardening/test_fuzz.py does not reach: the login lockout (item 1), every export cell
read with ',', ';' and tab (item 2), avatar files whose chunks are altered (item 7), the
subscription forms' dates and timestamps against the sandbox (items 10-12), text arriving by
webhook (item 13), signed PayPal bodies (items 4, 14) and altered S3 links (item 17).

Each generated request: never a 500, and the item's rule holds (the oracle is in each test)."""
import io
import itertools
import re
import struct
import time
import zlib
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from actions.avatars import AvatarError, read_avatar
from actions.form_checks import BIDI_CONTROLS
from models import Customer, WebhookEvent, db
from models.customer import DETAIL_FIELDS
from tests import factories
from tests.conftest import PASSWORD, csrf_token, make_admin
from tests.hardening.images import inflating_png, small_image
from tests.hardening.strategies import numbers, texts
from tests.hardening.test_csv_injection import SEPARATORS, live_cells
from tests.hardening.test_fuzz import FAST, owner  # noqa: F401 (fixture)
from tests.webhook_helpers import hook_app  # noqa: F401 (fixture)

SERIAL = itertools.count(1)  # examples share one app: each takes its own names and addresses


# --- Item 1: strangers cannot lock the owner out --------------------------------------------

def _login(client, email, password, address):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": address}).status_code


@settings(max_examples=25, **FAST)
@given(steps=st.lists(st.one_of(st.integers(min_value=0, max_value=9), st.just("owner")),
                      min_size=1, max_size=45))
def test_any_order_of_guesses_never_locks_out_the_owner(app, client, reliability, steps):
    """Up to 10 addresses guess in any order, the owner logs in between them from an address
    of their own: the owner is always admitted; a guessing address has at most 5 guesses
    checked (the per-(account, address) limit), all of them together at most the account's
    10 plus one first guess for each address; every other guess is refused (429)."""
    n = next(SERIAL)
    email = f"lock{n}@example.com"
    make_admin("owner", email)
    checked = {}
    for i, step in enumerate(steps):
        if step == "owner":  # a browser of the owner's, on an address without failures
            fresh = client.application.test_client()
            assert _login(fresh, email, PASSWORD, f"203.{n % 250}.{i}.7") == 302
        else:
            code = _login(client, email, "wrong password", f"198.{n % 250}.{n // 250}.{step}")
            assert code in (401, 429), code
            checked.setdefault(step, []).append(code)
        reliability.count("lockout")
    assert all(codes.count(401) <= 5 for codes in checked.values()), checked
    assert sum(codes.count(401) for codes in checked.values()) <= 10 + len(checked), checked
    reliability.count("fuzz", len(steps))
    reliability.count("fuzz_app", len(steps))


# --- Item 2: export cells under every separator ----------------------------------------------

CELL_TEXT = st.one_of(texts, st.text(
    alphabet=" \u00a0\u3000\n\r\t;,=+-@\"'0123456789().abZ\uff1d\uff0b\uff0d\uff20", max_size=16))
TEXT_FIELDS = [name for name, _ in DETAIL_FIELDS if name not in ("email", "country")]


@settings(max_examples=40, **FAST)
@given(values=st.fixed_dictionaries({field: CELL_TEXT for field in TEXT_FIELDS}),
       bom=st.booleans())
def test_exported_cells_are_never_live_under_any_separator(owner, reliability, values, bom):
    email = f"cell{next(SERIAL)}@example.com"
    factories.customer(email=email, country="DE", **{
        field: value.replace("\x00", "")[:getattr(Customer, field).type.length]
        for field, value in values.items()})
    db.session.commit()
    response = owner.client.get("/admin/customer/export/csv/",
                                query_string={"search": email, **({"bom": 1} if bom else {})})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert email in text
    for separator in SEPARATORS:
        live, cells = live_cells(text, separator)
        assert live == [], (separator, live)
        reliability.count("fuzz", cells)
    reliability.count("fuzz_app")


# --- Item 7: avatar files altered inside their chunks -----------------------------------------

def _png_chunks(data):
    chunks, at = [], 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunks.append([kind, data[at + 8:at + 8 + length]])
        at += 12 + length
    return chunks


def _png(chunks):
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(body)) + kind + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF) for kind, body in chunks)


EXTRA_CHUNKS = [b"zTXt", b"iCCP", b"iTXt", b"tEXt", b"eXIf", b"pHYs", b"tRNS", b"PLTE",
                b"sRGB", b"gAMA", b"acTL", b"fcTL", b"fdAT", b"IDAT"]


@st.composite
def altered_images(draw):
    """A small PNG, JPEG or WebP with bytes changed, cut or added (PNG chunks keep a valid
    CRC, so the parser reads on), or a PNG carrying an extra chunk of any kind."""
    kind = draw(st.sampled_from(["PNG", "JPEG", "WEBP", "chunk", "inflating"]))
    if kind == "inflating":
        return inflating_png(draw(st.sampled_from([b"zTXt", b"iCCP"])),
                             megabytes=draw(st.integers(min_value=1, max_value=4)))
    if kind == "chunk":
        chunks = _png_chunks(small_image())
        body = draw(st.binary(max_size=64))
        if draw(st.booleans()):
            body = draw(st.binary(max_size=8)) + b"\x00\x00" + zlib.compress(
                draw(st.binary(max_size=64)) * draw(st.integers(min_value=1, max_value=40000)))
        chunks.insert(draw(st.integers(min_value=1, max_value=len(chunks) - 1)),
                      [draw(st.sampled_from(EXTRA_CHUNKS)), body])
        return _png(chunks)
    data = bytearray(small_image(kind, (draw(st.integers(1, 80)), draw(st.integers(1, 80)))))
    if kind == "PNG" and draw(st.booleans()):
        chunks = _png_chunks(bytes(data))
        chunk = chunks[draw(st.integers(min_value=0, max_value=len(chunks) - 1))]
        body = bytearray(chunk[1])
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            if body:
                body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
        chunk[1] = bytes(body)
        return _png(chunks)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        what = draw(st.sampled_from(["set", "cut", "insert"]))
        if what == "set":
            data[at] = draw(st.integers(0, 255))
        elif what == "cut":
            del data[at:at + draw(st.integers(1, 32))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        if not data:
            break
    return bytes(data)


@settings(max_examples=400, **FAST)
@given(data=altered_images())
def test_an_altered_avatar_is_an_image_or_a_message(reliability, data):
    """read_avatar answers every file with a small image or AvatarError (a message), never
    another exception (the view turns only AvatarError into a message: anything else is a
    500)."""
    try:
        image = read_avatar(io.BytesIO(data), 2 * 1024 * 1024)
    except AvatarError as exc:
        assert str(exc)
    else:
        assert image.size[0] <= 256 and image.size[1] <= 256
    reliability.count("fuzz")
    reliability.count("fuzz_parsers")


@settings(max_examples=15, **FAST)
@given(data=altered_images())
def test_an_altered_avatar_upload_is_never_a_500(owner, reliability, data):
    customer = owner.ids["customer"]
    response = owner.client.post(f"/admin/customer/edit/?id={customer}", data={
        "csrf_token": owner.token, "name": "Rita Route", "email": "rita@example.com",
        "country": "", "avatar": (io.BytesIO(data), "me.png")},
        content_type="multipart/form-data")
    assert response.status_code in (200, 302), response.status_code
    owner.refused(response)
    reliability.count("fuzz")
    reliability.count("fuzz_app")


# --- Items 10-12: the subscription forms' timestamps and dates, against the sandbox ---------

@pytest.fixture
def finance_sub(app, client, sandbox):
    from tests.conftest import login
    from tests.integration.subscription_setup import configure, make
    configure(app, sandbox)
    setup = make("stripe", sandbox)
    login(client, "finance")
    return client, setup, csrf_token(client, "/admin/transaction/")


def _post_change(client, token, action, sub_id, form):
    return client.post(f"/admin/subscription/action/{action}/{sub_id}/?url=/admin/subscription/",
                       data={**form, "csrf_token": token,
                             "request_key": f"k{next(SERIAL)}-{time.time_ns()}"})


@settings(max_examples=40, **FAST)
@given(when=st.one_of(numbers, st.integers(min_value=-900, max_value=900).map(
    lambda offset: f"now{offset:+d}")))
def test_a_proration_date_is_taken_only_when_it_is_the_previews(finance_sub, reliability,
                                                                  when):
    """Items 10, 11: a Stripe price change is sent only with a proration date of ASCII digits
    within 10 minutes before now (or 1 minute ahead); any other value changes nothing."""
    client, setup, token = finance_sub
    now = int(time.time())
    if when.startswith("now"):
        when = str(now + int(when[3:]))
    before = len(setup.change_calls())
    amount = f"{40 + next(SERIAL) % 50}.00"  # a new price each time: a change to make
    response = _post_change(client, token, "subscription_price", setup.sub_id,
                            {"amount": amount, "effective": "now", "proration_date": when})
    assert response.status_code in (200, 302, 400), response.status_code
    sent = setup.change_calls()[before:]
    if when == "":  # none sent: the change is prorated at now
        when = str(now)
    plain = re.fullmatch(r"[0-9]{1,19}", when) is not None
    if not plain or not now - 610 <= int(when) <= now + 70:  # 10 s of margin either side
        assert sent == [], when
    for call, _key in sent:
        assert plain and now - 610 <= int(when) <= now + 70, when
        assert abs(int(call.form["proration_date"]) - int(when)) <= 10
    reliability.count("fuzz")
    reliability.count("fuzz_app")


@settings(max_examples=40, **FAST)
@given(day=st.one_of(st.dates().map(str), texts,
                     st.integers(min_value=-5, max_value=800).map(
                         lambda days: str(date.today() + timedelta(days=days)))))
def test_a_pause_date_is_taken_only_in_ascii_digits_and_within_730_days(finance_sub,
                                                                         reliability, day):
    """Items 10, 12: a resume date reaches Stripe only as YYYY-MM-DD in ASCII digits, in the
    future and at most 730 days ahead; every other value changes nothing."""
    client, setup, token = finance_sub
    before = len(setup.change_calls())
    response = _post_change(client, token, "subscription_pause", setup.sub_id,
                            {"resumes_on": day})
    assert response.status_code in (200, 302, 400), response.status_code
    sent = setup.change_calls()[before:]
    if sent and day.strip():  # (blank: paused without a date to resume on)
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day), day
        assert date.today() <= date.fromisoformat(day) <= date.today() + timedelta(days=731)
    if sent:
        _post_change(client, token, "subscription_resume", setup.sub_id, {})  # for the next
    reliability.count("fuzz")
    reliability.count("fuzz_app")


# --- Item 13: text that arrives by webhook is stored clean ------------------------------------

@settings(max_examples=25, **FAST)
@given(name=texts, city=texts, line1=texts)
def test_customer_text_from_a_stripe_webhook_is_stored_clean(hook_app, client, reliability,
                                                             name, city, line1):
    from tests.fakes import stripe_events as se
    from tests.webhook_helpers import post_stripe, settle
    email = f"hook{next(SERIAL)}@example.com"
    obj = se.customer(email=email, name=name)
    obj["address"].update(city=city, line1=line1)
    response = post_stripe(client, se.event("customer.created", obj))
    assert response.status_code in (200, 400), response.status_code
    settle()
    stored = db.session.scalar(select(Customer).where(Customer.email == email))
    if stored is not None:
        for field, _ in DETAIL_FIELDS:
            value = getattr(stored, field)
            assert not (value and BIDI_CONTROLS.search(value)), (field, value)
    reliability.count("fuzz", 3)
    reliability.count("fuzz_app")


# --- Items 4, 14: signed PayPal bodies of any shape -------------------------------------------

def _json_values():
    leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70),
                                                           max_value=2 ** 70), texts)
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)), max_leaves=6)


@pytest.fixture
def pp_app(app, paypal_hooks):
    from tests.webhook_helpers import settle
    app.config.update(WEBHOOK_RETRY_DELAY=0, WEBHOOK_MAX_ATTEMPTS=1, **paypal_hooks.config())
    yield app
    settle()


@settings(max_examples=40, **FAST)
@given(event_id=st.one_of(texts, st.text(alphabet="WH-0123456789ABCDEF", min_size=250,
                                         max_size=300)),
       event_type=st.one_of(st.sampled_from(["BILLING.SUBSCRIPTION.CANCELLED",
                                             "PAYMENT.SALE.COMPLETED"]), texts),
       resource=_json_values(), depth=st.one_of(st.just(0), st.integers(1, 3000)))
def test_signed_paypal_bodies(pp_app, client, reliability, event_id, event_type, resource,
                              depth):
    """Correctly signed PayPal bodies: 200 and stored at most once, or 400 and nothing stored;
    an id past 255 characters is refused, never cut (item 14); never a 500."""
    import json

    from tests.fakes import paypal_webhooks as pw
    body = json.dumps({"id": event_id, "event_type": event_type, "event_version": "1.0",
                       "create_time": pw.now_text(), "resource": resource})
    if depth:
        body = body[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    raw = body.encode("utf-8", "surrogatepass")
    before = db.session.query(WebhookEvent).count()
    response = client.post("/webhooks/paypal", data=raw, content_type="application/json",
                           headers=pw.sign(raw))
    assert response.status_code in (200, 400), response.status_code
    db.session.expire_all()
    stored = db.session.query(WebhookEvent).count() - before
    assert stored <= (1 if response.status_code == 200 else 0)
    if len(event_id) > 255 or depth >= 64:
        assert response.status_code == 400, (len(event_id), depth)
    reliability.count("fuzz", 4)
    reliability.count("fuzz_app")


# --- Item 17: an altered S3 link is refused -----------------------------------------------

@settings(max_examples=40, **FAST)
@given(data=st.data())
def test_an_altered_download_link_is_refused(s3_signed_bucket, reliability, data):
    """One character of a presigned link's path or query changed, added or removed: the
    signature-checking server answers 403 and none of the file."""
    import requests

    from actions.filestore import S3Store
    config, _, _ = s3_signed_bucket
    store = S3Store(config["S3_BUCKET"], "files/", endpoint_url=config["S3_ENDPOINT_URL"],
                    region=config["S3_REGION"], url_seconds=900)
    store.put("a.csv", b"secret-payload")
    link = store.url("a.csv", "customers.csv")
    start = len(config["S3_ENDPOINT_URL"])
    at = data.draw(st.integers(min_value=start + 1, max_value=len(link) - 1))
    what = data.draw(st.sampled_from(["set", "cut", "insert"]))
    char = data.draw(st.sampled_from("0123456789abcdefABCDEF-_.~%/=&?xZ"))
    if what == "set":
        if link[at] == char:
            return
        altered = link[:at] + char + link[at + 1:]
    elif what == "cut":
        altered = link[:at] + link[at + 1:]
    else:
        altered = link[:at] + char + link[at:]
    response = requests.get(altered, timeout=10)
    if response.status_code == 200:  # only a change that keeps the same request may pass
        assert requests.utils.unquote(altered) == requests.utils.unquote(link), altered
    else:
        assert response.status_code == 403, (altered, response.status_code)
        assert b"secret-payload" not in response.content
    reliability.count("fuzz")
    reliability.count("fuzz_parsers")
