"""PayPal adapter on `requests`: the official SDK cannot change its base URL or verify webhooks."""
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from actions.errors import GatewayDeclined, GatewayNotConfigured, GatewayUnavailable
from actions.gateways.base import VERBS, GatewayResult
from actions.gateways.http import gateway_session
from actions.gateways.paypal_subscriptions import PayPalSubscriptions
from actions.gateways.paypal_wire import json_object, paypal_amount

#: a cached token is renewed this many seconds before PayPal says it expires
TOKEN_MARGIN = 60

_STATUS = {"COMPLETED": "succeeded", "PENDING": "pending", "CANCELLED": "failed",
           "FAILED": "failed"}
_REFUND_ISSUES = {
    "CAPTURE_FULLY_REFUNDED": "PayPal says this payment is already fully refunded.",
    "REFUND_TIME_LIMIT_EXCEEDED": "PayPal refuses refunds after 180 days.",
}

class PayPalGateway(PayPalSubscriptions):
    """Refunds and subscription changes through PayPal's REST API, with a cached OAuth
    token and retries."""

    name = "paypal"
    #: the subscription verbs carry no idempotency promise (see PayPalSubscriptions)
    promises_idempotency = False

    def __init__(self, client_id, client_secret, api_base, timeout=10, max_retries=2):
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._credentials = (client_id, client_secret)
        policy = dict(
            total=max_retries, connect=max_retries, read=False, status=max_retries, other=0,
            status_forcelist=(429, 500, 502, 503, 504), backoff_factor=0.5,
            respect_retry_after_header=True, retry_after_max=timeout, raise_on_status=False)
        # POST too where the call carries a PayPal-Request-Id (token, refunds); the
        # subscription verbs that PayPal promises no idempotency for are never re-sent on an
        # answer (only a connection never made is tried again: nothing reached PayPal)
        self._retry = Retry(allowed_methods=None, **policy)
        self._retry_unrepeated = Retry(allowed_methods=frozenset({"GET"}), **policy)
        self._local = threading.local()
        self._token_lock = threading.Lock()
        self._token = None
        self._token_expires = 0.0

    def refund(self, payment_ref, amount_cents, currency, *, reason, note,
               idempotency_key):
        """Refund a capture; PayPal has no refund reason, so `reason` is not sent. The refund
        carries our key as custom_id and invoice_id: webhooks and the sync match on it."""
        body = {"custom_id": idempotency_key, "invoice_id": idempotency_key}
        if amount_cents is not None:
            body["amount"] = {"value": paypal_amount(amount_cents, currency),
                              "currency_code": currency.upper()}
        if note:
            body["note_to_payer"] = note
        response = self._call(
            "POST", f"/v2/payments/captures/{quote(payment_ref, safe='')}/refund", json=body,
            headers={"PayPal-Request-Id": idempotency_key, "Prefer": "return=representation"})
        if response.status_code in (200, 201):
            return _refund_result(response.json())
        raise self._refund_error(response, payment_ref)

    def refund_status(self, refund_ref):
        """Where a refund made earlier stands now at PayPal."""
        response = self._call("GET", f"/v2/payments/refunds/{quote(refund_ref, safe='')}")
        if response.status_code == 200:
            return _refund_result(response.json())
        raise self._refund_error(response, missing=f"PayPal has no refund {refund_ref}.")

    def find_refund(self, payment_ref, idempotency_key, since, until=None):
        """The capture's refund that carries our key as custom_id, from the transaction
        search (31-day windows from an hour before `since`), or None. The search may lag
        behind by up to three hours; sending again within that time is safe, as PayPal keeps
        a PayPal-Request-Id for 45 days."""
        start = since - timedelta(hours=1)
        # a little past now: the search's end is exclusive and counts whole seconds
        now = (until or datetime.now(timezone.utc)) + timedelta(seconds=2)
        while start < now:
            end = min(start + timedelta(days=31), now)
            page, pages = 1, 1
            while page <= pages:
                data = self._search(start, end, page)
                pages = int(data.get("total_pages") or 1)
                for row in data.get("transaction_details") or []:
                    info = row.get("transaction_info") or {}
                    if info.get("custom_field") == idempotency_key and \
                            info.get("paypal_reference_id") in (None, payment_ref):
                        return self.refund_status(info["transaction_id"])
                page += 1
            start = end
        return None

    def _search(self, start, end, page):
        response = self._call("GET", "/v1/reporting/transactions", "find_refund", params={
            "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "fields": "transaction_info",
            "page_size": 500, "page": page})
        if response.status_code != 200:
            raise self._error(response, "find_refund", missing="PayPal found no transactions.")
        return response.json()

    def _call(self, method, path, verb="refund", retry=True, **kwargs):
        """An authenticated API call for `verb` (VERBS, for the messages); a token PayPal
        no longer accepts is renewed once (a 401 means PayPal did nothing). retry=False:
        never re-sent after an answer (calls without an idempotency promise)."""
        token = self._access_token(verb)
        response = self._send(method, path, verb, token=token, retry=retry, **kwargs)
        if response.status_code == 401:
            token = self._access_token(verb, renew=True)
            response = self._send(method, path, verb, token=token, retry=retry, **kwargs)
        if response.status_code == 401:
            raise self._credentials_rejected(verb)
        return response

    def _access_token(self, verb, renew=False):
        """The cached OAuth2 token, fetched again when missing, expiring or rejected."""
        with self._token_lock:
            if renew or self._token is None or time.monotonic() >= self._token_expires:
                response = self._send("POST", "/v1/oauth2/token", verb,
                                      auth=self._credentials,
                                      data={"grant_type": "client_credentials"})
                if response.status_code in (400, 401):
                    raise self._credentials_rejected(verb)
                if response.status_code != 200:
                    raise self._unavailable(
                        f"PayPal did not issue an access token (HTTP {response.status_code})",
                        verb, sent=False, code=json_object(response).get("error"))
                data = response.json()
                self._token = data["access_token"]
                self._token_expires = (time.monotonic()
                                       + max(0, int(data["expires_in"]) - TOKEN_MARGIN))
            return self._token

    def _send(self, method, path, verb, token=None, headers=None, retry=True, **kwargs):
        """One HTTP exchange (with retries); network failures become GatewayUnavailable."""
        headers = {"Accept": "application/json", **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self._session(retry).request(method, self.api_base + path,
                                                headers=headers, timeout=self.timeout,
                                                **kwargs)
        except requests.Timeout as e:
            raise self._unavailable(f"PayPal did not answer within {self.timeout} s", verb,
                                    sent=bool(token)) from e
        except requests.RequestException as e:
            raise self._unavailable(f"Could not reach PayPal at {self.api_base} "
                                    "(network error)", verb, sent=bool(token)) from e

    def _unavailable(self, what, verb, *, sent, code=None):
        """GatewayUnavailable saying whether the call itself may have reached PayPal."""
        v = VERBS[verb]
        if v.reads:
            tail = f"so {v.noun} failed; {v.nothing}. Try again in a minute."
        elif sent:
            tail = (f"so we cannot tell whether {v.noun} went through. "
                    f"Trying again is safe: {v.twice}.")
        else:
            tail = f"before {v.noun} was sent; {v.nothing}. Try again in a minute."
        return GatewayUnavailable(f"{what}, {tail}", gateway=self.name, code=code)

    def _session(self, retry=True):
        """This thread's requests Session for the retry policy (retry=False: answers are
        never followed by a second send)."""
        name = "session" if retry else "session_unrepeated"
        session = getattr(self._local, name, None)
        if session is None:
            session = gateway_session(self.api_base)
            policy = self._retry if retry else self._retry_unrepeated
            session.mount("https://", HTTPAdapter(max_retries=policy))
            session.mount("http://", HTTPAdapter(max_retries=policy))
            setattr(self._local, name, session)
        return session

    def _credentials_rejected(self, verb):
        return GatewayNotConfigured(
            "PayPal rejected the client id/secret (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET); "
            f"{VERBS[verb].nothing}.", gateway=self.name, code="invalid_client")

    def _refund_error(self, response, capture_id=None, *, missing=None):
        return self._error(response, "refund",
                           missing=missing or f"PayPal has no capture {capture_id}.")

    def _error(self, response, verb, *, missing):
        """The GatewayError an admin should see for PayPal's error answer to `verb`.

        `missing` is the message for a 404.
        """
        v = VERBS[verb]
        status = response.status_code
        error = json_object(response)
        details = error.get("details") or [{}]
        issue = details[0].get("issue")
        code = issue or error.get("name") or error.get("error") or f"HTTP_{status}"
        text = (details[0].get("description") or error.get("message")
                or error.get("error_description") or f"HTTP {status}")

        def declined(message):
            return GatewayDeclined(message, gateway=self.name, code=code)

        if verb == "refund" and issue in _REFUND_ISSUES:
            return declined(_REFUND_ISSUES[issue])
        if status == 404:
            return declined(missing)
        if status == 403:
            return GatewayNotConfigured(
                f"PayPal does not allow this app to {v.do} ({text}); {v.nothing}.",
                gateway=self.name, code=code)
        if status == 429:
            return declined(f"PayPal is limiting requests right now; {v.nothing}. "
                            "Try again in a minute.")
        if 400 <= status < 500 and status != 409:
            return declined(f"PayPal refused {v.noun}: {text}")
        return self._unavailable(f"PayPal failed (HTTP {status}: {text})", verb, sent=True,
                                 code=code)


def _refund_result(data):
    """A PayPal refund object -> GatewayResult."""
    status = _STATUS.get(data.get("status"), "pending")
    failure = None
    if status == "failed":
        why = (data.get("status_details") or {}).get("reason") or data["status"]
        failure = f"PayPal could not complete the refund ({why.replace('_', ' ').lower()})."
    return GatewayResult(reference=data["id"], status=status, failure_message=failure,
                         raw=data)
