"""The subscription verbs of the Stripe adapter (API 2026-10-28: periods live on the item)."""

import stripe

from actions.errors import GatewayDeclined, GatewayError, InvalidRequest
from actions.gateways.currencies import from_stripe, to_stripe
from actions.gateways.times import from_unix as _when
from actions.gateways.base import (METADATA_KEY, PRORATIONS, ChangePreview, SubscriptionResult,
                                   SubscriptionState)

#: Stripe's subscription statuses in our words, the one table the webhooks and the sync use
#: too. incomplete: the first invoice was never paid; unpaid: retries exhausted; paused (not
#: pause_collection): a trial ended without a payment method and no invoices are made —
#: none of the three gives access.
STATUS = {"active": "active", "trialing": "trialing", "past_due": "past_due",
          "unpaid": "unpaid", "canceled": "canceled", "incomplete": "incomplete",
          "incomplete_expired": "canceled", "paused": "unpaid"}
#: what Stripe does with the invoices of a paused subscription: they are voided (not owed)
PAUSE_BEHAVIOR = "void"


class StripeSubscriptions:
    """Mixed into StripeGateway: needs self._client and self._error(e, verb, missing=...)."""

    def get_subscription(self, ref):
        """The subscription as Stripe holds it now."""
        sub = self._sub_call("get_subscription", ref,
                             lambda: self._client.v1.subscriptions.retrieve(ref))
        return state_of(sub)

    def preview_change(self, ref, *, amount_cents=None, currency=None, interval=None,
                       interval_count=None, plan_ref=None, proration, proration_date=None):
        """Stripe's own invoice preview of a new price (amount_cents…) or plan (plan_ref)."""
        _check_proration(proration)
        state = self.get_subscription(ref)
        item = _item(state, amount_cents, currency, interval, interval_count, plan_ref)
        details = {"items": [item], "proration_behavior": proration}
        if proration_date is not None:
            details["proration_date"] = int(proration_date)
        invoice = self._sub_call(
            "preview_change", ref, lambda: self._client.v1.invoices.create_preview(
                {"subscription": ref, "subscription_details": details}))
        return _preview(invoice, proration, proration_date)

    def change_price(self, ref, amount_cents, currency, interval, interval_count, *,
                     proration, idempotency_key, proration_date=None):
        """Create a Price of amount_cents per cycle on the item's product, carrying our key
        (metadata memberdesk_key, and lookup_key: a retry finds the same Price instead of
        making another, past Stripe's 24-hour idempotency window too), then put the item on
        it."""
        _check_proration(proration)
        state = self.get_subscription(ref)
        _require_item(state)  # none: refused before anything is created
        params = _price_params(state, amount_cents, currency, interval, interval_count,
                               idempotency_key)
        price = self._price_by_lookup_key(ref, params["lookup_key"]) or self._sub_call(
            "change_price", ref, lambda: self._client.v1.prices.create(
                params, options={"idempotency_key": price_key(idempotency_key)}))
        item = {"id": state.item_ref, "price": price["id"]}
        return self._update("change_price", ref, _change(item, proration, proration_date),
                            idempotency_key)

    def change_plan(self, ref, plan_ref, *, proration, idempotency_key, proration_date=None):
        """Put the item on another Price (a Plan id works too)."""
        _check_proration(proration)
        state = self.get_subscription(ref)
        item = _item(state, None, None, None, None, plan_ref)
        return self._update("change_plan", ref, _change(item, proration, proration_date),
                            idempotency_key)

    def cancel(self, ref, *, at_period_end, idempotency_key):
        """At period end: cancel_at_period_end; now: DELETE the subscription."""
        try:
            if at_period_end:
                return self._update("cancel", ref, {"cancel_at_period_end": True},
                                    idempotency_key)
            sub = self._sub_call("cancel", ref, lambda: self._client.v1.subscriptions.cancel(
                ref, options={"idempotency_key": idempotency_key}))
            return SubscriptionResult(ref, "succeeded", state_of(sub), raw=sub)
        except GatewayDeclined:
            already = self._already_canceled(ref)
            if already is None:
                raise
            return already

    def undo_cancel(self, ref, *, idempotency_key):
        """Withdraw a cancellation scheduled for the period end."""
        return self._update("undo_cancel", ref, {"cancel_at_period_end": False},
                            idempotency_key)

    def pause(self, ref, resumes_at, *, idempotency_key):
        """pause_collection (invoices voided meanwhile), until resumes_at if given."""
        pause = {"behavior": PAUSE_BEHAVIOR}
        if resumes_at is not None:
            pause["resumes_at"] = int(resumes_at.timestamp())
        return self._update("pause", ref, {"pause_collection": pause}, idempotency_key)

    def resume(self, ref, *, idempotency_key):
        """Clear pause_collection."""
        return self._update("resume", ref, {"pause_collection": ""}, idempotency_key)

    def _update(self, verb, ref, params, idempotency_key):
        """The update; "payment_pending" when Stripe holds it as a pending update (its
        invoice was not paid: the subscription is unchanged until it is)."""
        sub = self._sub_call(verb, ref, lambda: self._client.v1.subscriptions.update(
            ref, params, options={"idempotency_key": idempotency_key}))
        status = "payment_pending" if sub.get("pending_update") else "succeeded"
        return SubscriptionResult(ref, status, state_of(sub), raw=sub)

    def _price_by_lookup_key(self, ref, lookup_key):
        """The Price an earlier attempt of this change created (its answer lost), or None."""
        found = self._sub_call("change_price", ref, lambda: self._client.v1.prices.list(
            {"lookup_keys": [lookup_key], "limit": 1}))
        return next(iter(found.get("data") or []), None)

    def _sub_call(self, verb, ref, call):
        """call() -> the vendor object as a dict; StripeError -> our GatewayError."""
        try:
            return call().to_dict(for_json=True)
        except stripe.StripeError as e:
            raise self._error(e, verb, missing=f"Stripe has no subscription {ref}.") from e

    def _already_canceled(self, ref):
        """A SubscriptionResult if Stripe refused because it is cancelled already, else None."""
        try:
            state = self.get_subscription(ref)
        except GatewayError:  # the original refusal says more than a failed look-up
            return None
        if state.status != "canceled":
            return None
        return SubscriptionResult(ref, "already_canceled", state, raw=state.raw)


def price_key(idempotency_key):
    """The idempotency key of the Price a price change creates: the change's own key (one
    per change row and installation) with a suffix, as Stripe ties a key to one request."""
    return f"{idempotency_key}-price"


def _price_params(state, amount_cents, currency, interval, interval_count, idempotency_key):
    return {"currency": currency.lower(), "product": state.product_ref,
            "unit_amount": to_stripe(amount_cents, currency, "charged"),
            "recurring": {"interval": interval, "interval_count": int(interval_count)},
            "metadata": {METADATA_KEY: idempotency_key},
            # one Price per change: Stripe refuses a second Price with this key
            "lookup_key": price_key(idempotency_key)}


def _check_proration(proration):
    if proration not in PRORATIONS:
        raise InvalidRequest(f"Unknown proration “{proration}”; nothing was sent to Stripe.")


def _change(item, proration, proration_date):
    """A price or plan change; one invoiced now is applied only once it is paid
    (pending_if_incomplete: a declined card leaves the subscription as it was, holding the
    change as `pending_update`), never applied unpaid (Stripe's default allow_incomplete)."""
    params = {"items": [item], "proration_behavior": proration}
    if proration_date is not None:
        params["proration_date"] = int(proration_date)
    if proration == "always_invoice":
        params["payment_behavior"] = "pending_if_incomplete"
    return params


def _require_item(state):
    if not state.item_ref:
        raise InvalidRequest(f"Stripe subscription {state.reference} has no item to change; "
                             "nothing was changed.")


def _item(state, amount_cents, currency, interval, interval_count, plan_ref):
    """The `items[0]` parameter: the same item, on plan_ref or on an inline price (a
    preview's: it creates nothing)."""
    _require_item(state)
    if plan_ref:
        return {"id": state.item_ref, "price": plan_ref}
    return {"id": state.item_ref, "price_data": {
        "currency": currency.lower(), "product": state.product_ref,
        "unit_amount": to_stripe(amount_cents, currency, "charged"),
        "recurring": {"interval": interval, "interval_count": int(interval_count)}}}


def status_of(sub):
    """A Stripe subscription's status in our words (unknown words give no access)."""
    return STATUS.get(sub.get("status"), "incomplete")


def state_of(sub):
    """A Stripe subscription (dict) -> SubscriptionState; the sync reads it too."""
    items = (sub.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or item.get("plan") or {}
    product = price.get("product")
    pause = sub.get("pause_collection") or None
    amount = price.get("unit_amount", price.get("amount"))
    currency = (price.get("currency") or sub.get("currency") or "").upper()
    return SubscriptionState(
        reference=sub["id"], status=status_of(sub),
        # API 2026-10-28: on the item; older layouts (localstripe): on the subscription
        period_end=_when(item.get("current_period_end") or sub.get("current_period_end")),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
        cancel_at=_when(sub.get("cancel_at")), ended_at=_when(sub.get("ended_at")),
        paused=pause is not None, pause_resumes_at=_when((pause or {}).get("resumes_at")),
        price_ref=price.get("id"), item_ref=item.get("id"),
        product_ref=product.get("id") if isinstance(product, dict) else product,
        amount_cents=None if amount is None or not currency else from_stripe(amount, currency),
        currency=currency or None,
        raw=sub)


def _is_proration(line):
    """API 2026-10-28 marks prorations under parent.subscription_item_details."""
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or {}
    return bool(details.get("proration", line.get("proration")))


def _preview(invoice, proration, proration_date):
    """What the preview says will be paid: its amount_due (after tax, discounts and the
    customer's balance), or, for an invoice in the customer's favour, its (negative) total,
    credited to the balance. proration_cents: the proration lines alone, for the wording."""
    currency = invoice["currency"].upper()
    lines = (invoice.get("lines") or {}).get("data") or []
    proration_cents = sum(int(line["amount"]) for line in lines if _is_proration(line))
    if proration == "none":
        proration_cents = 0
    total = int(invoice["total"])
    due = int(invoice["amount_due"]) if total >= 0 else total
    due = from_stripe(due, currency) if due >= 0 else -from_stripe(-due, currency)
    return ChangePreview(
        currency=currency, proration=proration,
        proration_cents=from_stripe(proration_cents, currency) if proration_cents >= 0
        else -from_stripe(-proration_cents, currency),
        due_now_cents=due if proration == "always_invoice" else 0,
        next_invoice_cents=None if proration == "always_invoice" else due,
        proration_date=proration_date, raw=invoice)
