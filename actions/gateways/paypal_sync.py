"""PayPal reads for webhooks and the backfill sync: webhook signature verification (PayPal's
own verify-webhook-signature call), captures, orders, subscriptions, plans and the transaction
search used to page through an account. Translates only: no DB, no Flask."""
import hashlib
from urllib.parse import quote

from actions.errors import GatewayDeclined, GatewayUnavailable

#: the transaction search's largest page and widest window (PayPal: 500 rows, 31 days)
PAGE_SIZE = 500
WINDOW_DAYS = 31
#: the headers PayPal signs a delivery with, and the verify call's field for each
SIGNATURE_HEADERS = {"auth_algo": "PAYPAL-AUTH-ALGO", "cert_url": "PAYPAL-CERT-URL",
                     "transmission_id": "PAYPAL-TRANSMISSION-ID",
                     "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
                     "transmission_time": "PAYPAL-TRANSMISSION-TIME"}


class PayPalReader:
    """Read-only calls through a PayPalGateway's authenticated session (token cache, retries)."""

    name = "paypal"
    #: called before every request (the sync's rate limit); None: no limit
    throttle = None
    page_size = PAGE_SIZE

    def __init__(self, gateway):
        self._gateway = gateway

    @property
    def account(self):
        """Which PayPal account this reads (a digest of its API base and client id): what the
        sync remembers about one account's search is not taken for another's."""
        base = getattr(self._gateway, "api_base", "")
        client = (getattr(self._gateway, "_credentials", None) or ("",))[0]
        return hashlib.sha256(f"{base}|{client}".encode()).hexdigest()[:16]

    def verify_webhook(self, headers, webhook_id, event):
        """True when PayPal confirms that `headers` sign `event` for our `webhook_id`."""
        body = {field: headers.get(header) for field, header in SIGNATURE_HEADERS.items()}
        if not all(body.values()):
            return False
        body.update(webhook_id=webhook_id, webhook_event=event)
        data = self._request("POST", "/v1/notifications/verify-webhook-signature", json=body)
        return data.get("verification_status") == "SUCCESS"

    def capture(self, capture_id):
        return self._get(f"/v2/payments/captures/{quote(capture_id, safe='')}")

    def order(self, order_id):
        return self._get(f"/v2/checkout/orders/{quote(order_id, safe='')}")

    def subscription(self, subscription_id):
        return self._get(f"/v1/billing/subscriptions/{quote(subscription_id, safe='')}")

    def plan(self, plan_id):
        return self._get(f"/v1/billing/plans/{quote(plan_id, safe='')}")

    def sale(self, sale_id):
        return self._get(f"/v1/payments/sale/{quote(sale_id, safe='')}")

    def transactions(self, start, end, page=1):
        """One page of the transaction search between two aware datetimes:
        (transaction_details, total_pages)."""
        data = self._get("/v1/reporting/transactions", params={
            "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "fields": "all",
            "page_size": self.page_size, "page": page})
        return data.get("transaction_details", []), int(data.get("total_pages") or 1)

    def _get(self, path, **kwargs):
        return self._request("GET", path, **kwargs)

    def _request(self, method, path, **kwargs):
        if self.throttle:
            self.throttle()
        response = self._gateway._call(method, path, **kwargs)
        if response.status_code in (200, 201):
            return response.json()
        if response.status_code == 429 or response.status_code >= 500:
            raise GatewayUnavailable(f"PayPal did not answer {path} (HTTP "
                                     f"{response.status_code}).", gateway="paypal")
        raise GatewayDeclined(f"PayPal refused {path} (HTTP {response.status_code}).",
                              gateway="paypal", code=f"HTTP_{response.status_code}")
