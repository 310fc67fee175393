"""StripeGateway's subscription verbs against the sandbox in today's API shapes."""
from datetime import datetime, timezone

import pytest

from actions.errors import GatewayDeclined, GatewayUnavailable
from actions.gateways.stripe import StripeGateway
from tests.gateway_sandbox import FAULTS
from sandbox.core import STRIPE_API_KEY as API_KEY

pytestmark = pytest.mark.timeout(60)

DAY = 86400
START = int(datetime(2026, 11, 20, tzinfo=timezone.utc).timestamp())
END = START + 30 * DAY  # 20 Dec 2026
TENTH_DAY = START + 10 * DAY  # 20 days of 30 left: two thirds of the period unused


@pytest.fixture
def gateway(stripe_sb):
    return StripeGateway(API_KEY, api_base=stripe_sb.url, timeout=10, max_retries=0)


@pytest.fixture
def sub(stripe_sb):
    price = stripe_sb.subs.add_price(3000, "eur")
    return stripe_sb.subs.add_subscription(price, START, END)


def changes(stripe_sb):
    """The calls that may change a subscription (not GETs, not previews)."""
    return [call for call in stripe_sb.calls if call.method in ("POST", "DELETE")
            and call.path.startswith("/v1/subscriptions/")]


def test_get_subscription_reads_the_period_from_the_item(stripe_sb, gateway, sub):
    state = gateway.get_subscription(sub)

    [call] = stripe_sb.calls
    assert (call.method, call.path) == ("GET", f"/v1/subscriptions/{sub}")
    assert state.period_end == datetime(2026, 12, 20, tzinfo=timezone.utc)
    assert (state.status, state.cancel_at_period_end, state.paused) == ("active", False, False)
    assert (state.amount_cents, state.currency) == (3000, "EUR")
    assert state.item_ref.startswith("si_") and state.product_ref.startswith("prod_")


def test_change_price_creates_a_price_carrying_our_key_then_puts_the_item_on_it(
        stripe_sb, gateway, sub):
    """Every object we create at Stripe carries our id: the new Price is made first, with
    our key in its metadata and a key derived from ours, not inline (price_data)."""
    state = gateway.get_subscription(sub)

    result = gateway.change_price(sub, 4500, "EUR", "month", 1, proration="none",
                                  idempotency_key="md-inst-change-7-ab12")

    [created] = [c for c in stripe_sb.calls if (c.method, c.path) == ("POST", "/v1/prices")]
    assert created.form == {
        "currency": "eur", "product": state.product_ref, "unit_amount": "4500",
        "recurring[interval]": "month", "recurring[interval_count]": "1",
        "metadata[memberdesk_key]": "md-inst-change-7-ab12",
        "lookup_key": "md-inst-change-7-ab12-price"}
    assert created.headers["Idempotency-Key"] == "md-inst-change-7-ab12-price"
    [price] = [p for p in stripe_sb.subs.prices.values()
               if p.get("metadata") == {"memberdesk_key": "md-inst-change-7-ab12"}]
    [call] = changes(stripe_sb)
    assert (call.method, call.path) == ("POST", f"/v1/subscriptions/{sub}")
    assert call.form == {"items[0][id]": state.item_ref, "items[0][price]": price["id"],
                         "proration_behavior": "none"}
    assert call.headers["Idempotency-Key"] == "md-inst-change-7-ab12"
    assert result.status == "succeeded" and result.state.amount_cents == 4500
    assert gateway.get_subscription(sub).price_ref == price["id"]
    assert stripe_sb.subs.invoices == []

    again = gateway.change_price(sub, 4500, "EUR", "month", 1, proration="none",
                                 idempotency_key="md-inst-change-7-ab12")
    assert again.state.price_ref == price["id"]
    assert [p["id"] for p in stripe_sb.subs.prices.values()
            if p.get("metadata", {}).get("memberdesk_key")] == [price["id"]]


def test_a_price_change_retried_after_stripes_idempotency_window_makes_no_second_price(
        sandbox, stripe_sb, gateway, sub):
    """The Price was created but its answer lost; the change is sent again 25 hours later,
    when Stripe has forgotten the idempotency key: the Price is found by our key (its
    lookup_key), not created twice."""
    sandbox.sandbox.add_fault("stripe", "timeout")  # the Price is made, the answer lost
    with pytest.raises(GatewayUnavailable):
        gateway.change_price(sub, 4500, "EUR", "month", 1, proration="none",
                             idempotency_key="md-inst-change-8-cd34")
    sandbox.sandbox.advance(25 * 3600)

    result = gateway.change_price(sub, 4500, "EUR", "month", 1, proration="none",
                                  idempotency_key="md-inst-change-8-cd34")

    ours = [p["id"] for p in stripe_sb.subs.prices.values()
            if p.get("metadata", {}).get("memberdesk_key") == "md-inst-change-8-cd34"]
    assert len(ours) == 1, ours
    assert result.state.price_ref == ours[0] and result.state.amount_cents == 4500
    assert [(c.method, c.path) for c in stripe_sb.calls].count(("POST", "/v1/prices")) == 1


def test_the_sandbox_forgets_an_idempotency_key_after_24_hours(sandbox, stripe_sb, gateway,
                                                               sub):
    """What the test above stands on: a create sent again with the same key within 24 hours
    replays the first answer; after them it is a new request."""
    state = gateway.get_subscription(sub)

    def create():
        return gateway._client.v1.prices.create(
            {"currency": "eur", "product": state.product_ref, "unit_amount": 100,
             "recurring": {"interval": "month"}}, options={"idempotency_key": "k-1"})["id"]
    first = create()
    sandbox.sandbox.advance(23 * 3600)
    assert create() == first
    sandbox.sandbox.advance(3600)
    assert create() != first


@pytest.mark.parametrize(("proration", "proration_cents", "due_now", "next_invoice"), [
    ("none", 0, 0, 4500),
    ("create_prorations", 1000, 0, 5500),  # -2000 unused + 3000 remaining, on next invoice
    ("always_invoice", 1000, 1000, None),
])
def test_preview_of_a_price_change(stripe_sb, gateway, sub, proration, proration_cents,
                                   due_now, next_invoice):
    preview = gateway.preview_change(sub, amount_cents=4500, currency="EUR", interval="month",
                                     interval_count=1, proration=proration,
                                     proration_date=TENTH_DAY)

    call = stripe_sb.calls[-1]
    assert call.path == "/v1/invoices/create_preview"
    assert call.form["subscription"] == sub
    assert call.form["subscription_details[proration_behavior]"] == proration
    assert call.form["subscription_details[proration_date]"] == str(TENTH_DAY)
    assert call.form["subscription_details[items][0][price_data][unit_amount]"] == "4500"
    assert (preview.proration_cents, preview.due_now_cents, preview.next_invoice_cents) == (
        proration_cents, due_now, next_invoice)
    assert preview.currency == "EUR" and changes(stripe_sb) == []


def test_plan_change_with_an_invoice_now_matches_its_preview(stripe_sb, gateway, sub):
    plan = stripe_sb.subs.add_price(1500, "eur")
    preview = gateway.preview_change(sub, plan_ref=plan["id"], proration="always_invoice",
                                     proration_date=TENTH_DAY)

    result = gateway.change_plan(sub, plan["id"], proration="always_invoice",
                                 idempotency_key="subscription_change:8",
                                 proration_date=TENTH_DAY)

    assert preview.due_now_cents == -1000  # a credit: 1000 unused, 2000 of 3000 back
    call = changes(stripe_sb)[-1]
    assert call.form["items[0][price]"] == plan["id"]
    assert call.form["proration_behavior"] == "always_invoice"
    assert call.form["proration_date"] == str(TENTH_DAY)
    [invoice] = stripe_sb.subs.invoices
    assert sum(line["amount"] for line in invoice["lines"]) == preview.due_now_cents
    assert result.state.price_ref == plan["id"]


def test_plan_change_to_an_unknown_price(stripe_sb, gateway, sub):
    with pytest.raises(GatewayDeclined, match=r"^Stripe refused the plan change: "
                                              r"No such price: 'price_gone'$"):
        gateway.change_plan(sub, "price_gone", proration="none", idempotency_key="k")


def test_cancel_at_period_end_then_undo(stripe_sb, gateway, sub):
    result = gateway.cancel(sub, at_period_end=True, idempotency_key="subscription_change:1")

    assert changes(stripe_sb)[-1].form == {"cancel_at_period_end": "true"}
    assert result.state.cancel_at_period_end and result.state.status == "active"
    assert result.state.period_end == datetime(2026, 12, 20, tzinfo=timezone.utc)

    undone = gateway.undo_cancel(sub, idempotency_key="subscription_change:2")

    assert changes(stripe_sb)[-1].form == {"cancel_at_period_end": "false"}
    assert changes(stripe_sb)[-1].headers["Idempotency-Key"] == "subscription_change:2"
    assert not undone.state.cancel_at_period_end


def test_cancel_now_then_again(stripe_sb, gateway, sub):
    result = gateway.cancel(sub, at_period_end=False, idempotency_key="subscription_change:1")

    call = changes(stripe_sb)[-1]
    assert (call.method, call.path) == ("DELETE", f"/v1/subscriptions/{sub}")
    assert call.headers["Idempotency-Key"] == "subscription_change:1"
    assert (result.status, result.state.status) == ("succeeded", "canceled")

    again = gateway.cancel(sub, at_period_end=False, idempotency_key="subscription_change:2")
    assert (again.status, again.state.status) == ("already_canceled", "canceled")
    later = gateway.cancel(sub, at_period_end=True, idempotency_key="subscription_change:3")
    assert later.status == "already_canceled"
    assert stripe_sb.subs.effects == [("cancel", sub)]


def test_pause_until_a_date_then_resume(stripe_sb, gateway, sub):
    resumes = datetime(2027, 1, 5, tzinfo=timezone.utc)

    paused = gateway.pause(sub, resumes, idempotency_key="subscription_change:3")

    assert changes(stripe_sb)[-1].form == {
        "pause_collection[behavior]": "void",
        "pause_collection[resumes_at]": str(int(resumes.timestamp()))}
    assert paused.state.paused and paused.state.pause_resumes_at == resumes
    assert paused.state.status == "active"

    resumed = gateway.resume(sub, idempotency_key="subscription_change:4")

    assert changes(stripe_sb)[-1].form == {"pause_collection": ""}
    assert not resumed.state.paused


VERBS = {
    "change_price": (lambda g, s, k: g.change_price(s, 4500, "EUR", "month", 1,
                                                    proration="none", idempotency_key=k),
                     "the price change", "the price was not changed", "price"),
    "change_plan": (lambda g, s, k: g.change_plan(s, PLAN[0], proration="create_prorations",
                                                  idempotency_key=k),
                    "the plan change", "the plan was not changed", "price"),
    "cancel_at_period_end": (lambda g, s, k: g.cancel(s, at_period_end=True,
                                                      idempotency_key=k),
                             "the cancellation", "nothing was cancelled",
                             "cancel_at_period_end"),
    "cancel_now": (lambda g, s, k: g.cancel(s, at_period_end=False, idempotency_key=k),
                   "the cancellation", "nothing was cancelled", "cancel"),
    "undo_cancel": (lambda g, s, k: g.undo_cancel(s, idempotency_key=k),
                    "the undoing of the cancellation", "the cancellation still stands",
                    "undo_cancel"),
    "pause": (lambda g, s, k: g.pause(s, None, idempotency_key=k),
              "the pause", "nothing was paused", "pause"),
    "resume": (lambda g, s, k: g.resume(s, idempotency_key=k),
               "the resumption", "nothing was resumed", "resume"),
}
PLAN = []


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("verb", VERBS)
def test_faults_give_our_message_and_a_retry_acts_once(stripe_sb, gateway, sub, verb,
                                                       fault):
    PLAN[:] = [stripe_sb.subs.add_price(5000, "eur")["id"]]
    call, noun, nothing, effect = VERBS[verb]
    stripe_sb.subs.faults.add(fault)

    with pytest.raises((GatewayDeclined, GatewayUnavailable)) as caught:
        call(gateway, sub, "subscription_change:5")

    message = caught.value.message
    if fault in ("timeout", "reset", 409, 500):
        assert type(caught.value) is GatewayUnavailable
        assert f"so we cannot tell whether {noun} went through. Trying again is safe" in message
    elif fault == 404:
        assert message == f"Stripe has no subscription {sub}."
    elif fault == 429:
        assert message == (f"Stripe is limiting requests right now; {nothing}. "
                           "Try again in a minute.")
    else:
        assert message == f"Stripe refused {noun}: This request cannot be processed."
    assert "refund" not in message
    stripe_sb.release()

    call(gateway, sub, "subscription_change:5")

    assert [what for what, _ in stripe_sb.subs.effects] == [effect]


READ_MESSAGES = {
    "timeout": "Stripe did not answer within 10 s, so {noun} failed; nothing was changed. "
               "Try again in a minute.",
    "reset": "Could not reach Stripe (network error), so {noun} failed; nothing was changed. "
             "Try again in a minute.",
    404: "Stripe has no subscription {sub}.",
    409: "Stripe failed (HTTP 409: There is currently another in-progress request using this "
         "Stripe API key.), so {noun} failed; nothing was changed. Try again in a minute.",
    422: "Stripe refused {noun}: This request cannot be processed.",
    429: "Stripe is limiting requests right now; nothing was changed. Try again in a minute.",
    500: "Stripe failed (HTTP 500: An unknown error occurred), so {noun} failed; nothing was "
         "changed. Try again in a minute.",
}


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_on_reading_and_previewing(stripe_sb, gateway, sub, fault):
    stripe_sb.subs.read_faults.add(fault)
    with pytest.raises((GatewayDeclined, GatewayUnavailable)) as caught:
        gateway.get_subscription(sub)
    assert caught.value.message == READ_MESSAGES[fault].format(
        noun="the subscription look-up", sub=sub)

    stripe_sb.release()
    stripe_sb.subs.faults.add(fault)
    with pytest.raises((GatewayDeclined, GatewayUnavailable)) as caught:
        gateway.preview_change(sub, amount_cents=100, currency="EUR", interval="month",
                               interval_count=1, proration="none")
    assert caught.value.message == READ_MESSAGES[fault].format(
        noun="the preview of the change", sub=sub)
    assert stripe_sb.subs.effects == []
