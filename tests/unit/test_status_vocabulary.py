"""One status vocabulary per gateway, owned by its adapter (issue 17, finding 3): the adapter's
reading and the webhooks'/sync's reading of the same vendor object agree, and only the
statuses of a paid period give access."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from actions.gateways import paypal_subscriptions, stripe_subscriptions
from actions.sync import paypal_map, stripe_map
from models.access import has_access
from models.subscription import SUBSCRIPTION_STATUSES
from tests.fakes import paypal_webhooks as pw
from tests.fakes import stripe_events as se

NOW = datetime(2026, 12, 15, tzinfo=timezone.utc)
PERIOD_END = datetime(2026, 12, 20, tzinfo=timezone.utc)

#: Stripe's words -> (ours, access on the 15th of a period paid to the 20th)
STRIPE = {"active": ("active", True), "trialing": ("trialing", True),
          "past_due": ("past_due", True), "incomplete": ("incomplete", False),
          "unpaid": ("unpaid", False), "paused": ("unpaid", False),
          "incomplete_expired": ("canceled", False), "canceled": ("canceled", False)}
PAYPAL = {"ACTIVE": ("active", True), "SUSPENDED": ("active", True),
          "APPROVAL_PENDING": ("incomplete", False), "APPROVED": ("incomplete", False),
          "CANCELLED": ("canceled", True), "EXPIRED": ("canceled", True)}


def _sub(record):
    return SimpleNamespace(status=record.status, access_until=record.access_until or (
        PERIOD_END if record.status == "canceled" and record.gateway == "paypal" else None),
        current_period_end=PERIOD_END, cancel_at_period_end=record.cancel_at_period_end,
        cancel_at=record.cancel_at, paused=record.paused,
        pause_resumes_at=record.pause_resumes_at, unpaid_from=None)


@pytest.mark.parametrize("word", sorted(STRIPE))
def test_stripe_statuses_read_the_same_by_the_adapter_and_the_sync(word):
    obj = se.subscription("cus_1", "sub_1", status=word, period_end=int(PERIOD_END.timestamp()),
                          canceled_at=int(NOW.timestamp()) - 60 if word == "canceled" else None)
    record = stripe_map.subscription(obj, NOW, "USD")
    ours, access = STRIPE[word]
    assert record.status == stripe_subscriptions.state_of(obj).status == ours
    assert ours in SUBSCRIPTION_STATUSES
    assert has_access(_sub(record), NOW) is access


@pytest.mark.parametrize("word", sorted(PAYPAL))
def test_paypal_statuses_read_the_same_by_the_adapter_and_the_sync(word):
    obj = pw.subscription("I-1", status=word)
    record = paypal_map.subscription(obj, NOW, (3000, "USD", "month", 1, "Pro"))
    ours, access = PAYPAL[word]
    assert record.status == paypal_subscriptions.state_of(obj).status == ours
    assert ours in SUBSCRIPTION_STATUSES
    assert has_access(_sub(record), NOW) is access


def test_an_unknown_status_word_gives_no_access():
    obj = se.subscription("cus_1", "sub_1", status="something_new")
    assert not has_access(_sub(stripe_map.subscription(obj, NOW, "USD")), NOW)
    assert not has_access(_sub(paypal_map.subscription(pw.subscription("I-1", status="NEW"),
                                                       NOW, (1, "USD", "month", 1, "P"))),
                          NOW)


def test_rows_shown_together_are_judged_once_at_one_instant(monkeypatch):
    """Issue 22: within one_instant (a list page, a profile) a subscription's state is
    computed once for all its buttons and columns, at the page's instant; outside it, at
    every call, as before."""
    from models import sub_state

    computed = []
    real = sub_state._state
    monkeypatch.setattr(sub_state, "_state",
                        lambda sub, now: computed.append(sub) or real(sub, now))
    sub = SimpleNamespace(status="active", cancel_at_period_end=False, cancel_at=None,
                          current_period_end=None, access_until=None, paused=False,
                          approval_url=None, gateway="stripe", unpaid_from=None)
    other = SimpleNamespace(**{**vars(sub), "status": "canceled"})
    with sub_state.one_instant():
        now = sub_state.shown_at()
        answers = [sub_state.applies(s, kind, sub_state.shown_at())
                   for s in (sub, other) for kind in sorted(sub_state.KINDS)]
        assert sub_state.shown_at() == now
    assert computed == [sub, other]
    assert answers == [sub_state.applies(s, kind, now)
                       for s in (sub, other) for kind in sorted(sub_state.KINDS)]
    assert len(computed) == 2 + 2 * len(sub_state.KINDS)  # outside: once per call
