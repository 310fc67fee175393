"""The in-process gateway of the fast tier: tests/fakes/memory_gateway.py's refunds plus the
subscription verbs, behaving as each vendor does where the actions depend on it.

Stripe: cancel at period end is a flag, cancel now ends the subscription, undo clears the flag,
pause takes a date. PayPal: cancel always ends at once (the state returned is the one read
before), no undo, no pause date, a price or plan change may wait for the payer's approval
(`needs_approval`). Every changing verb honours its idempotency key: the same key repeats the
first answer and changes nothing more; `effects` lists what really happened at the gateway.
"""
import copy
from dataclasses import dataclass, field, replace
from datetime import datetime

from actions.errors import GatewayDeclined, GatewayUnavailable, InvalidRequest
from actions.gateways.base import ChangePreview, SubscriptionResult, SubscriptionState
from tests.fakes.memory_gateway import MemoryGateway


@dataclass
class GatewaySubscription:
    ref: str
    status: str
    period_end: datetime
    price_ref: str
    amount_cents: int
    currency: str
    cancel_at_period_end: bool = False
    paused: bool = False
    pause_resumes_at: datetime | None = None
    overridden: bool = False  # PayPal: a subscription-level price (plan override) in force
    amount_known: bool = True  # False after a move to a plan whose price was never given


@dataclass
class SubscriptionGateway(MemoryGateway):
    subscriptions: dict = field(default_factory=dict)
    effects: list = field(default_factory=list)  # (verb, ref, idempotency key), once each
    #: PayPal answers a revise with a link the payer must follow
    needs_approval: bool = False
    #: what the payer did at that link, applied when they approve (approve())
    _awaiting: dict = field(default_factory=dict)
    _verb_failures: dict = field(default_factory=dict)
    #: verbs whose requests the gateway de-duplicates by no key (PayPal's /revise: issue 17
    #: finding 14): each request acts
    keyless: set = field(default_factory=set)
    #: what the gateway charges for a plan (price ref -> cents), where a test says so
    plan_prices: dict = field(default_factory=dict)

    def add_subscription(self, ref, period_end, *, price_ref, amount_cents, currency="USD",
                         status="active"):
        self.subscriptions[ref] = GatewaySubscription(ref, status, period_end, price_ref,
                                                      amount_cents, currency)

    def state(self, ref):
        sub = self.subscriptions[ref]
        return SubscriptionState(
            reference=ref, status=sub.status, period_end=sub.period_end,
            cancel_at_period_end=sub.cancel_at_period_end, paused=sub.paused,
            pause_resumes_at=sub.pause_resumes_at, price_ref=sub.price_ref,
            amount_cents=sub.amount_cents if sub.amount_known else None, currency=sub.currency,
            raw={"plan_overridden": sub.overridden})

    def fail_verb(self, verb, kind):
        """The next call of `verb` fails: "timeout" / "5xx" / "429" (outcome unknown, nothing
        done), "reset_after_success" (done, answer lost) or "decline"."""
        self._verb_failures.setdefault(verb, []).append(kind)

    def fail_next_change(self, kind):
        """The next call that would change a subscription (whatever its verb) fails so."""
        self._verb_failures.setdefault("any change", []).append(kind)

    def approve(self, ref):
        """The payer follows the approval link."""
        self._awaiting.pop(ref)(self.subscriptions[ref])

    # -- verbs that read -------------------------------------------------------------------
    def get_subscription(self, ref):
        self.calls.append(("get_subscription", ref, None))
        self._maybe_fail("get_subscription")
        if ref not in self.subscriptions:
            raise GatewayDeclined(f"{self.name} has no subscription {ref}.", gateway=self.name,
                                  code="missing")
        return self.state(ref)

    def preview_change(self, ref, *, amount_cents=None, currency=None, interval=None,
                       interval_count=None, plan_ref=None, proration, proration_date=None):
        self.calls.append(("preview_change", ref, None))
        sub = self.subscriptions[ref]
        new = amount_cents if amount_cents is not None else sub.amount_cents
        diff = (new - sub.amount_cents) // 2 if proration != "none" else 0  # half a period left
        return ChangePreview(currency=sub.currency, proration=proration, proration_cents=diff,
                             due_now_cents=diff if proration == "always_invoice" else 0,
                             next_invoice_cents=None if proration == "always_invoice"
                             else new + diff, proration_date=proration_date)

    # -- verbs that change -----------------------------------------------------------------
    def change_price(self, ref, amount_cents, currency, interval, interval_count, *,
                     proration, idempotency_key, proration_date=None):
        self._no_proration_on_paypal(proration)

        def effect(sub):
            sub.amount_cents, sub.overridden, sub.amount_known = amount_cents, True, True
            if self.name == "stripe":
                sub.price_ref = f"price_inline_{amount_cents}"
        return self._revise("change_price", ref, (amount_cents, currency, proration),
                            idempotency_key, effect)

    def change_plan(self, ref, plan_ref, *, proration, idempotency_key, proration_date=None):
        self._no_proration_on_paypal(proration)

        def effect(sub):
            sub.price_ref, sub.overridden = plan_ref, False
            sub.amount_known = plan_ref in self.plan_prices
            sub.amount_cents = self.plan_prices.get(plan_ref, sub.amount_cents)
        return self._revise("change_plan", ref, (plan_ref, proration), idempotency_key, effect)

    def cancel(self, ref, *, at_period_end, idempotency_key):
        def act(sub):
            before = self.state(ref)
            if sub.status == "canceled":
                return SubscriptionResult(ref, "already_canceled", before)
            if self.name == "stripe" and at_period_end:
                sub.cancel_at_period_end = True
                return SubscriptionResult(ref, "succeeded", self.state(ref))
            sub.status = "canceled"  # Stripe "now"; PayPal whatever was asked
            return SubscriptionResult(ref, "succeeded",
                                      before if self.name == "paypal" else self.state(ref))
        return self._once("cancel", ref, (at_period_end,), idempotency_key, act)

    def undo_cancel(self, ref, *, idempotency_key):
        if self.name == "paypal":
            raise InvalidRequest("PayPal cancels at once and cannot undo a cancellation; "
                                 "nothing was sent to PayPal.")

        def act(sub):
            sub.cancel_at_period_end = False
            return SubscriptionResult(ref, "succeeded", self.state(ref))
        return self._once("undo_cancel", ref, (), idempotency_key, act)

    def pause(self, ref, resumes_at, *, idempotency_key):
        if resumes_at is not None and self.name == "paypal":
            raise InvalidRequest("PayPal cannot resume payments on a date: pause without a "
                                 "date and resume by hand. Nothing was sent to PayPal.")

        def act(sub):
            sub.paused, sub.pause_resumes_at = True, resumes_at
            return SubscriptionResult(ref, "succeeded", self.state(ref))
        return self._once("pause", ref, (resumes_at,), idempotency_key, act)

    def resume(self, ref, *, idempotency_key):
        def act(sub):
            sub.paused, sub.pause_resumes_at = False, None
            return SubscriptionResult(ref, "succeeded", self.state(ref))
        return self._once("resume", ref, (), idempotency_key, act)

    # -- the mechanics -----------------------------------------------------------------------
    def _revise(self, verb, ref, request, idempotency_key, effect):
        def act(sub):
            if self.name == "paypal" and self.needs_approval:
                self._awaiting[ref] = effect
                return SubscriptionResult(ref, "approval_pending",
                                          approval_url=f"https://paypal.test/approve/{ref}")
            effect(sub)
            return SubscriptionResult(ref, "succeeded", self.state(ref))
        return self._once(verb, ref, request, idempotency_key, act)

    def _once(self, verb, ref, request, idempotency_key, act):
        self.calls.append((verb, (ref, *request), idempotency_key))
        key = (verb, idempotency_key)
        # a request repeated with its key gets the first answer (it cannot be declined now);
        # the network can still lose it
        if verb in self.keyless:
            key = (verb, idempotency_key, len(self.effects))  # never seen before
        failure = self._maybe_fail(verb, repeat=key in self.by_key)
        if key in self.by_key:
            seen, result = self.by_key[key]
            if seen != (ref, *request):
                raise GatewayDeclined("Keys for idempotent requests can only be used with the "
                                      "same parameters.", gateway=self.name, code="idempotency")
            return result
        if ref not in self.subscriptions:
            raise GatewayDeclined(f"{self.name} has no subscription {ref}.", gateway=self.name,
                                  code="missing")
        result = act(self.subscriptions[ref])
        self.by_key[key] = ((ref, *request), result)
        self.effects.append((verb, ref, idempotency_key))
        if failure == "reset_after_success":
            raise GatewayUnavailable(f"The connection to {self.name} was reset.",
                                     gateway=self.name)
        return result

    def _maybe_fail(self, verb, repeat=False):
        waiting = self._verb_failures.get(verb)
        if not waiting and verb != "get_subscription":
            waiting = self._verb_failures.get("any change")
        if not waiting:
            return None
        failure = waiting.pop(0)
        if failure in ("timeout", "5xx", "429"):
            raise GatewayUnavailable(f"{self.name} did not answer ({failure}).",
                                     gateway=self.name)
        if failure == "decline" and not repeat:
            raise GatewayDeclined(f"{self.name} declined the request.", gateway=self.name,
                                  code="declined")
        return failure

    def _no_proration_on_paypal(self, proration):
        if self.name == "paypal" and proration != "none":
            raise InvalidRequest("PayPal does not prorate; nothing was sent to PayPal.")

    def snapshot(self):
        """Everything the gateway holds, to check that a refusal sent it nothing."""
        return copy.deepcopy((
            {ref: (p.amount_cents, p.refunded_cents) for ref, p in self.payments.items()},
            {ref: replace(s) for ref, s in self.subscriptions.items()},
            len(self.refunds), list(self.effects)))
