"""Issue 20, items 4, 5, 14, 15: webhook bodies that are signed (or not) but not events.

Each delivery below gets a 4xx and stores nothing; none gives a 500 (Stripe and PayPal would
retry a 500 for days)."""
import json
import time

import pytest

from models import WebhookEvent, db
from tests.fakes import paypal_webhooks as pw
from tests.fakes import stripe_events as se
from tests.webhook_helpers import events, hook_app, settle  # noqa: F401 (fixture)

DEEP = 50_000


@pytest.fixture
def pp_app(app, paypal_hooks):
    app.config.update(WEBHOOK_RETRY_DELAY=0, WEBHOOK_MAX_ATTEMPTS=3, **paypal_hooks.config())
    yield app
    settle()


def _stripe(client, payload, timestamp=None):
    payload = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post("/webhooks/stripe", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": se.sign(payload, timestamp=timestamp)})


def _event(**changes):
    evt = se.event("customer.updated", se.customer())
    for key, value in changes.items():
        if value is None:
            evt.pop(key)
        else:
            evt[key] = value
    return evt


def stripe_malformed_bodies():
    """Signed bodies that are not events Stripe could send (item 5)."""
    deep = '{"id": "evt_deep", "created": 1, "type": "x", "data": ' + "[" * DEEP + "]" * DEEP + "}"
    return {
        "array": "[1, 2]",
        "no created": _event(created=None),
        "created text": _event(created="yesterday"),
        "created float text": _event(created="1.5e300"),
        "created huge": _event(created=10 ** 20),
        "created negative": _event(created=-(10 ** 15)),
        "created bool": _event(created=True),
        "deep nesting": deep,
        "NUL in id": _event(id="evt_\x00abc"),
        "id not text": _event(id={"a": 1}),
        "no type": _event(type=None),
        "id over 255": _event(id="evt_" + "a" * 300),
    }


@pytest.mark.parametrize("name", list(stripe_malformed_bodies()))
def test_signed_malformed_stripe_events_get_400_and_store_nothing(hook_app, client, name):
    response = _stripe(client, stripe_malformed_bodies()[name])
    assert response.status_code == 400, (name, response.get_data(as_text=True)[:300])
    settle()
    assert events() == []


def test_unsigned_deep_nesting_is_refused_before_parsing(hook_app, pp_app, client):
    deep = "[" * DEEP + "]" * DEEP
    for url in ("/webhooks/paypal", "/webhooks/stripe"):
        response = client.post(url, data=deep, content_type="application/json",
                               headers={"Stripe-Signature": "t=1,v1=00"})
        assert response.status_code == 400, url
        assert "nested" in response.get_json()["message"]
    settle()
    assert events() == []


def test_paypal_event_ids_past_255_characters_are_refused_not_cut(pp_app, client):
    base = "WH-" + "7" * 252  # 255 characters: accepted
    stored = pw.event("BILLING.SUBSCRIPTION.CANCELLED", {"id": "I-NOSUCH"})
    stored["id"] = base
    body = pw.body(stored)
    assert client.post("/webhooks/paypal", data=body, content_type="application/json",
                       headers=pw.sign(body)).status_code == 200
    other = dict(stored, id=base + "-another-event")
    body = pw.body(other)
    response = client.post("/webhooks/paypal", data=body, content_type="application/json",
                           headers=pw.sign(body))
    assert response.status_code == 400
    assert "already received" not in response.get_data(as_text=True)
    settle()
    assert [e.event_id for e in events()] == [base]


def test_stripe_event_ids_past_255_characters_are_refused_not_cut(hook_app, client):
    base = "evt_" + "7" * 251
    assert _stripe(client, _event(id=base)).status_code == 200
    response = _stripe(client, _event(id=base + "X"))
    assert response.status_code == 400
    settle()
    assert [e.event_id for e in events()] == [base]


@pytest.mark.parametrize("offset", [3600, 301, -301])
def test_stripe_signatures_beyond_the_tolerance_either_way_are_refused(hook_app, client, offset):
    response = _stripe(client, _event(), timestamp=time.time() + offset)
    assert response.status_code == 400
    assert "timestamp" in response.get_json()["message"].lower()
    settle()
    assert db.session.query(WebhookEvent).count() == 0


def test_a_stripe_signature_within_the_tolerance_is_accepted(hook_app, client):
    assert _stripe(client, _event(), timestamp=time.time() + 60).status_code == 200
