"""Stripe adapter: our verbs -> stripe-python 16 `StripeClient`, its errors -> ours."""
import requests
import stripe

from actions.errors import (GatewayDeclined, GatewayNotConfigured, GatewayUnavailable,
                            InvalidRequest)
from actions.gateways.base import METADATA_KEY, VERBS, GatewayResult
from actions.gateways.currencies import to_stripe
from actions.gateways.http import gateway_session
from actions.gateways.stripe_subscriptions import StripeSubscriptions

#: our refund reasons Stripe knows; "other" is not sent (Stripe has no such reason)
STRIPE_REASONS = ("requested_by_customer", "duplicate", "fraudulent")

_STATUS = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending",
           "failed": "failed", "canceled": "failed"}


class _Client(stripe.RequestsClient):
    """stripe-python's requests client, with this thread's session made by gateway_session
    (the environment's proxy settings read once, not on every call)."""

    def __init__(self, api_base, **kwargs):
        super().__init__(**kwargs)
        self._api_base = api_base

    def _request_internal(self, *args, **kwargs):
        if getattr(self._thread_local, "session", None) is None:
            self._thread_local.session = gateway_session(self._api_base)
        return super()._request_internal(*args, **kwargs)


class StripeGateway(StripeSubscriptions):
    """Refunds and subscription changes through Stripe's API (or a server speaking it,
    such as localstripe)."""

    name = "stripe"

    def __init__(self, api_key, api_base=None, timeout=10, max_retries=2):
        self.timeout = timeout
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_retries,
            http_client=_Client(api_base or stripe.DEFAULT_API_BASE, timeout=timeout),
        )

    def refund(self, payment_ref, amount_cents, currency, *, reason, note,
               idempotency_key):
        """Refund a PaymentIntent (pi_) or Charge (ch_, py_); currency is the payment's."""
        params = {_payment_field(payment_ref): payment_ref}
        if amount_cents is not None:
            params["amount"] = to_stripe(amount_cents, currency, "refunded")
        if reason in STRIPE_REASONS:
            params["reason"] = reason
        params["metadata"] = {METADATA_KEY: idempotency_key}  # our id: webhooks match on it
        if note:
            params["metadata"]["note"] = note
        try:
            refund = self._client.v1.refunds.create(
                params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as e:
            raise self._refund_error(e, payment_ref) from e
        return _refund_result(refund.to_dict(for_json=True))

    def refund_status(self, refund_ref):
        """Where a refund made earlier (re_…) stands now at Stripe."""
        try:
            refund = self._client.v1.refunds.retrieve(refund_ref)
        except stripe.StripeError as e:
            raise self._refund_error(e, missing=f"Stripe has no refund {refund_ref}.") from e
        return _refund_result(refund.to_dict(for_json=True))

    def find_refund(self, payment_ref, idempotency_key, since, until=None):
        """The payment's refund that carries our key in its metadata (Stripe lists a
        payment's refunds, newest first), or None."""
        params = {_payment_field(payment_ref): payment_ref, "limit": 100,
                  "created": {"gte": int(since.timestamp()) - 3600}}
        try:
            for refund in self._client.v1.refunds.list(params).auto_paging_iter():
                data = refund.to_dict(for_json=True)
                if (data.get("metadata") or {}).get(METADATA_KEY) == idempotency_key:
                    return _refund_result(data)
        except stripe.StripeError as e:
            raise self._error(e, "find_refund",
                              missing=f"Stripe has no payment {payment_ref}.") from e
        return None

    def _error(self, e, verb, *, missing):
        """The GatewayError an admin should see for a failed call of `verb` (VERBS).

        `missing` is the message for a 404 (no such payment, refund or subscription).
        """
        v = VERBS[verb]
        code = _vendor_code(e)
        text = e.user_message or "no explanation given"

        def declined(message):
            return GatewayDeclined(message, gateway=self.name, code=code)

        if isinstance(e, stripe.CardError):
            return declined(f"The card issuer declined {v.noun}: {text}")
        if isinstance(e, stripe.RateLimitError):
            return declined(f"Stripe is limiting requests right now; {v.nothing}. "
                            "Try again in a minute.")
        if isinstance(e, stripe.AuthenticationError):
            return GatewayNotConfigured(
                f"Stripe rejected the API key (STRIPE_API_KEY); {v.nothing}. "
                f"Stripe said: {text}", gateway=self.name, code=code)
        if isinstance(e, stripe.PermissionError):
            return GatewayNotConfigured(
                f"Stripe does not let this API key (STRIPE_API_KEY) {v.do}; {v.nothing}. "
                f"Stripe said: {text}", gateway=self.name, code=code)
        if isinstance(e, stripe.APIConnectionError):
            return GatewayUnavailable(self._no_answer(e, v), gateway=self.name, code=code)
        if code == "charge_already_refunded" and verb == "refund":
            return declined("Stripe says this payment is already fully refunded.")
        about_items = str(getattr(e, "param", None) or "").startswith("items")
        if e.http_status == 404 or (code == "resource_missing" and not about_items):
            return declined(missing)
        if e.http_status is not None and 400 <= e.http_status < 500 and e.http_status != 409:
            return declined(f"Stripe refused {v.noun}: {text}")
        return GatewayUnavailable(
            f"Stripe failed (HTTP {e.http_status}: {text}), {_unknown(v)}",
            gateway=self.name, code=code)

    def _refund_error(self, e, payment_ref=None, *, missing=None):
        return self._error(e, "refund",
                           missing=missing or f"Stripe has no payment {payment_ref}.")

    def _no_answer(self, e, v):
        """Message for a network failure: a timeout or a connection that never opened."""
        if isinstance(e.__cause__, requests.Timeout):
            return f"Stripe did not answer within {self.timeout} s, {_unknown(v)}"
        return f"Could not reach Stripe (network error), {_unknown(v)}"


def _unknown(v):
    """The end of a message for a call whose outcome we did not hear."""
    if v.reads:
        return f"so {v.noun} failed; {v.nothing}. Try again in a minute."
    return f"so we cannot tell whether {v.noun} went through. Trying again is safe: {v.twice}."


def _payment_field(payment_ref):
    """The refund parameter naming this payment: payment_intent or charge."""
    if payment_ref.startswith("pi_"):
        return "payment_intent"
    if payment_ref.startswith(("ch_", "py_")):
        return "charge"
    raise InvalidRequest(f"“{payment_ref}” is not a Stripe payment (pi_… or ch_…); "
                         "nothing was sent to Stripe.")


def _vendor_code(e):
    """Stripe's error code (e.g. charge_already_refunded), from the error JSON if need be."""
    body = e.json_body if isinstance(e.json_body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    return e.code or error.get("code")


def _refund_result(data):
    """A Stripe refund object -> GatewayResult."""
    status = _STATUS.get(data.get("status"), "pending")
    failure = None
    if status == "failed":
        why = (data.get("failure_reason") or data.get("status")).replace("_", " ")
        failure = f"Stripe could not complete the refund ({why})."
    return GatewayResult(reference=data["id"], status=status, failure_message=failure,
                         raw=data)
