"""The subscription verbs of the PayPal adapter (Subscriptions API v1)."""
from urllib.parse import quote

from actions.errors import GatewayDeclined, GatewayError, GatewayUnavailable, InvalidRequest
from actions.gateways.base import VERBS, ChangePreview, SubscriptionResult, SubscriptionState
from actions.gateways.currencies import from_paypal
from actions.gateways.times import from_iso as _when
from actions.gateways.paypal_wire import paypal_amount

#: PayPal's statuses in our words, the one table the webhooks and the sync use too
#: (SUSPENDED: active, payments paused; APPROVAL_PENDING/APPROVED: the payer has not
#: completed the first approval, nothing was paid)
STATUS = {"APPROVAL_PENDING": "incomplete", "APPROVED": "incomplete", "ACTIVE": "active",
          "SUSPENDED": "active", "CANCELLED": "canceled", "EXPIRED": "canceled"}
#: the `reason` PayPal requires on cancel / suspend / activate (at most 128 characters)
REASONS = {"cancel": "Cancelled by the seller in the admin panel.",
           "pause": "Payments paused by the seller in the admin panel.",
           "resume": "Payments resumed by the seller in the admin panel."}
NO_PRORATION = ("PayPal does not prorate: a price or plan change applies from a billing "
                "cycle onwards and nothing is charged or credited now.")


class PayPalSubscriptions:
    """Mixed into PayPalGateway: needs self._call(method, path, verb, ...) and self._error.

    PayPal's published API description declares PayPal-Request-Id on creating plans and
    subscriptions and on captures and refunds, not on /revise, /suspend, /activate or
    /cancel: those four are sent without it and never re-sent blindly (no retry on 429/5xx).
    When one fails without a clear answer (timeout, 5xx), or is refused as if done already
    (422 after an earlier lost answer), the subscription is read and decides: applied means
    applied, however PayPal answered; not applied means nothing changed.
    """

    def get_subscription(self, ref):
        """GET the subscription with its plan (?fields=plan): status, plan and the price in
        force (a subscription-level override included), billing_info.next_billing_time."""
        response = self._call("GET", _path(ref) + "?fields=plan", "get_subscription")
        if response.status_code != 200:
            raise self._error(response, "get_subscription", missing=_missing(ref))
        return state_of(response.json())

    def preview_change(self, ref, *, amount_cents=None, currency=None, interval=None,
                       interval_count=None, plan_ref=None, proration, proration_date=None):
        """PayPal has no proration and no preview: nothing is charged or credited now."""
        _no_proration(proration)
        return ChangePreview(currency=(currency or "").upper(), proration="none",
                             proration_cents=0, due_now_cents=0, next_invoice_cents=None)

    def change_price(self, ref, amount_cents, currency, interval, interval_count, *,
                     proration, idempotency_key, proration_date=None):
        """Revise with a subscription-level plan override of the regular cycle's
        fixed_price (the cycle length stays the plan's)."""
        _no_proration(proration)
        value = paypal_amount(amount_cents, currency, "charged")
        state = self.get_subscription(ref)
        fixed = {"value": value, "currency_code": currency.upper()}
        override = {"billing_cycles": [{
            "sequence": _regular_sequence(state.raw),
            "pricing_scheme": {"fixed_price": fixed}}]}

        def applied(now):
            return now.price_ref == state.price_ref and _override_price(now.raw) == fixed
        return self._revise("change_price", ref, {"plan_id": state.price_ref,
                                                  "plan": override}, applied)

    def change_plan(self, ref, plan_ref, *, proration, idempotency_key, proration_date=None):
        """Revise to another plan; PayPal may answer with a link the payer must approve.

        The revise answer names the plan, not its price: the state returned carries the
        plan's price as PayPal holds it (read after the revision), or no amount if that read
        failed (the revision itself stands)."""
        _no_proration(proration)
        result = self._revise("change_plan", ref, {"plan_id": plan_ref},
                              lambda now: now.price_ref == plan_ref)
        if result.status != "succeeded":
            return result
        return SubscriptionResult(ref, result.status, self.plan_state(ref, plan_ref),
                                  raw=result.raw)

    def plan_state(self, ref, plan_ref):
        """The subscription's price on plan_ref, from PayPal's plan (amount None if unread)."""
        try:
            response = self._call("GET", f"/v1/billing/plans/{quote(plan_ref, safe='')}",
                                  "get_subscription")
        except GatewayError:
            response = None
        amount = currency = None
        if response is not None and response.status_code == 200:
            cycles = response.json().get("billing_cycles") or []
            regular = [c for c in cycles if c.get("tenure_type") == "REGULAR"] or cycles
            if regular:
                fixed = regular[0]["pricing_scheme"]["fixed_price"]
                currency = fixed["currency_code"].upper()
                amount = from_paypal(fixed["value"], currency)
        return SubscriptionState(reference=ref, status="active", price_ref=plan_ref,
                                 amount_cents=amount, currency=currency)

    def cancel(self, ref, *, at_period_end, idempotency_key):
        """PayPal cancels at once whatever we ask; the state returned is the one read just
        before cancelling (its period_end is when the member's paid access ends)."""
        before = self.get_subscription(ref)
        if before.status == "canceled":
            return SubscriptionResult(ref, "already_canceled", before, raw=before.raw)
        how = self._post_action("cancel", ref, lambda now: now.status == "canceled")
        if how == "refused":  # cancelled meanwhile (by the member, or by a lost earlier call)
            return SubscriptionResult(ref, "already_canceled", before, raw=before.raw)
        return SubscriptionResult(ref, "succeeded", before, raw=before.raw)

    def undo_cancel(self, ref, *, idempotency_key):
        """Not possible: a PayPal cancellation is final."""
        raise InvalidRequest("PayPal cancels at once and cannot undo a cancellation; "
                             "nothing was sent to PayPal.")

    def pause(self, ref, resumes_at, *, idempotency_key):
        """Suspend the subscription; PayPal resumes only when told (no resume date)."""
        if resumes_at is not None:
            raise InvalidRequest("PayPal cannot resume payments on a date: pause without a "
                                 "date and resume by hand. Nothing was sent to PayPal.")
        self._post_action("pause", ref, lambda now: now.paused)
        return SubscriptionResult(ref, "succeeded")

    def resume(self, ref, *, idempotency_key):
        """Activate a suspended subscription."""
        self._post_action("resume", ref,
                          lambda now: now.status == "active" and not now.paused)
        return SubscriptionResult(ref, "succeeded")

    def _revise(self, verb, ref, body, applied):
        response, _ = self._unrepeated("POST", _path(ref, "revise"), verb, ref, applied,
                                       json=body)
        if response is None:  # PayPal's answer was lost, but the revision shows: applied
            return SubscriptionResult(ref, "succeeded")
        data = response.json()
        approve = next((link["href"] for link in data.get("links") or []
                        if link.get("rel") == "approve"), None)
        return SubscriptionResult(ref, "approval_pending" if approve else "succeeded",
                                  approval_url=approve, raw=data)

    def _post_action(self, verb, ref, applied):
        """POST cancel / suspend / activate with PayPal's required reason; 204 expected."""
        endpoint = {"cancel": "cancel", "pause": "suspend", "resume": "activate"}[verb]
        return self._unrepeated("POST", _path(ref, endpoint), verb, ref, applied,
                                json={"reason": REASONS[verb]})[1]

    def _unrepeated(self, method, path, verb, ref, applied, **kwargs):
        """Send a verb PayPal promises no idempotency for, once (no PayPal-Request-Id, no
        retry). Returns (answer, "answered"), or (None, "lost" | "refused") when the answer
        was lost or a refusal came but the subscription shows the change applied
        (applied(state)). Raises when it is not applied."""
        try:
            response = self._call(method, path, verb, retry=False, **kwargs)
        except GatewayUnavailable as lost:
            return None, self._decide(verb, ref, applied, lost)
        if response.status_code in (200, 204):
            return response, "answered"
        error = self._error(response, verb, missing=_missing(ref))
        if response.status_code in (401, 403, 404, 429):
            raise error  # PayPal did not act
        return None, self._decide(verb, ref, applied, error)

    def _decide(self, verb, ref, applied, error):
        """Read the subscription after an unclear failure or a refusal: applied -> "lost" (the
        answer was lost) or "refused" (refused as done already); not applied -> the refusal,
        or a GatewayDeclined saying nothing changed; unreadable -> the original error."""
        now = self._quiet_state(ref, fields="plan" if verb == "change_price" else None)
        if now is None:
            raise error
        if applied(now):
            return "lost" if error.outcome_unknown else "refused"
        if not error.outcome_unknown:
            raise error
        v = VERBS[verb]
        raise GatewayDeclined(f"{error.message.split(', so ')[0].split('; ')[0]}; PayPal "
                              f"shows no change, so {v.nothing}. Try again.",
                              gateway=error.gateway, code=error.code)

    def _quiet_state(self, ref, fields=None):
        """The subscription now, or None when it cannot be read (the caller's error says
        more than a failed look-up)."""
        try:
            path = _path(ref) + (f"?fields={fields}" if fields else "")
            response = self._call("GET", path, "get_subscription")
        except GatewayError:
            return None
        return state_of(response.json()) if response.status_code == 200 else None


def _path(ref, action=None):
    path = f"/v1/billing/subscriptions/{quote(ref, safe='')}"
    return f"{path}/{action}" if action else path


def _missing(ref):
    return f"PayPal has no subscription {ref}."


def _no_proration(proration):
    if proration != "none":
        raise InvalidRequest(NO_PRORATION + " Nothing was sent to PayPal.")


def _override_price(sub):
    """The fixed price of a subscription-level plan override (GET ?fields=plan), or None."""
    if not sub.get("plan_overridden"):
        return None
    return _plan_price(sub)


def _plan_price(sub):
    """The regular cycle's fixed price of the plan in force (GET ?fields=plan), or None."""
    cycles = (sub.get("plan") or {}).get("billing_cycles") or []
    regular = [c for c in cycles if c.get("tenure_type", "REGULAR") == "REGULAR"] or cycles
    fixed = ((regular[0] if regular else {}).get("pricing_scheme") or {}).get("fixed_price")
    return {"value": fixed["value"], "currency_code": fixed["currency_code"].upper()} \
        if fixed else None


def _regular_sequence(sub):
    """The sequence number of the REGULAR billing cycle (after any trial cycles)."""
    cycles = (sub.get("billing_info") or {}).get("cycle_executions") or []
    regular = [c for c in cycles if c.get("tenure_type") == "REGULAR"]
    return int(regular[0]["sequence"]) if regular else 1


def status_of(sub):
    """A PayPal subscription's status in our words (unknown words give no access)."""
    return STATUS.get(sub.get("status"), "incomplete")


def state_of(sub):
    """A PayPal subscription (JSON) -> SubscriptionState; the sync reads it too."""
    billing = sub.get("billing_info") or {}
    last = (billing.get("last_payment") or {}).get("amount") or {}
    fixed = _plan_price(sub)
    price = (from_paypal(fixed["value"], fixed["currency_code"]),
             fixed["currency_code"].upper()) if fixed else None
    return SubscriptionState(
        reference=sub["id"], status=status_of(sub),
        period_end=_when(billing.get("next_billing_time")),
        paused=sub.get("status") == "SUSPENDED", price_ref=sub.get("plan_id"),
        amount_cents=price[0] if price else None,
        currency=price[1] if price else last.get("currency_code"), raw=sub)
