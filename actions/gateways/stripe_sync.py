"""Stripe reads for webhooks and the backfill sync: webhook verification, paged lists, the
balance transactions that say what a payment settled at. Translates only: no DB, no Flask."""
import json
import time

import stripe

from actions.errors import GatewayDeclined, GatewayUnavailable

#: Stripe's largest page
PAGE_SIZE = 100
#: what the sync lists, in the order it imports them (parents before children)
LISTS = {"customers": "/v1/customers", "charges": "/v1/charges", "refunds": "/v1/refunds",
         "disputes": "/v1/disputes", "subscriptions": "/v1/subscriptions",
         "invoices": "/v1/invoices"}


class StripeSignatureError(Exception):
    """The Stripe-Signature header does not prove the body came from Stripe (or is stale)."""


def verify_event(raw_body, signature_header, secret, tolerance=300, now=None):
    """Check that `signature_header` signs `raw_body` with `secret` at a time within
    `tolerance` seconds of now, in the past *or the future* (the SDK checks only the past);
    StripeSignatureError otherwise. The body is not parsed here."""
    if not signature_header:
        raise StripeSignatureError("no Stripe-Signature header")
    try:
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise StripeSignatureError("body is not UTF-8 text") from None
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, tolerance)
    except stripe.SignatureVerificationError as e:
        raise StripeSignatureError(str(e)) from None
    signed_at = _signed_at(signature_header)
    if abs((time.time() if now is None else now) - signed_at) > tolerance:
        raise StripeSignatureError(f"timestamp outside the tolerance zone ({signed_at})")


def _signed_at(header):
    """The `t=` of a Stripe-Signature header (verify_header has checked it is there)."""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            return int(value)
    raise StripeSignatureError("no timestamp in the Stripe-Signature header")


class StripeReader:
    """Read-only calls to Stripe (or localstripe) with the SDK's retries and a timeout."""

    name = "stripe"
    #: called before every request (the sync's rate limit); None: no limit
    throttle = None
    page_size = PAGE_SIZE

    def __init__(self, gateway):
        self._client = gateway._client  # the adapter's StripeClient: key, base, retries, timeout

    def get(self, path, **params):
        """GET an API path as a plain dict; GatewayError on failure."""
        if self.throttle:
            self.throttle()
        try:
            response = self._client.raw_request("get", path, **params)
            # the answer's JSON as plain dicts: the same as deserialize(...).to_dict(), without
            # building StripeObjects to take apart again (about 6 % of the syncs' time in the
            # randomized histories' profile, issue 17)
            return json.loads(response.body)
        except stripe.StripeError as e:
            raise _error(e, path) from e

    def balance_transaction(self, txn_id):
        """What a charge, refund or dispute settled at (/v1/balance/history, the long-standing
        path, which localstripe serves too)."""
        return self.get(f"/v1/balance/history/{txn_id}")

    def charge(self, charge_id):
        return self.get(f"/v1/charges/{charge_id}")

    def customer(self, customer_id):
        return self.get(f"/v1/customers/{customer_id}")

    def subscription(self, subscription_id):
        return self.get(f"/v1/subscriptions/{subscription_id}")

    def refunds_of(self, charge_id):
        """Every refund of a charge (a charge lists them no longer since API 2022-11-15)."""
        return list(self.pages("refunds", charge=charge_id))

    def page(self, kind, starting_after=None, **params):
        """One page of a list: (objects, has_more)."""
        params = {"limit": self.page_size, **params}
        if starting_after:
            params["starting_after"] = starting_after
        data = self.get(LISTS[kind], **params)
        return data["data"], bool(data.get("has_more"))

    def pages(self, kind, **params):
        """Every object of a list, page by page."""
        cursor = None
        while True:
            objects, more = self.page(kind, cursor, **params)
            yield from objects
            if not more or not objects:
                return
            cursor = objects[-1]["id"]


def _error(e, path):
    if isinstance(e, (stripe.APIConnectionError, stripe.RateLimitError)) or \
            (e.http_status or 500) >= 500:
        return GatewayUnavailable(f"Stripe did not answer {path} ({e.user_message or e}).",
                                  gateway="stripe", code=e.code)
    return GatewayDeclined(f"Stripe refused {path}: {e.user_message or e}", gateway="stripe",
                           code=e.code)
