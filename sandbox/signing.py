"""How the sandbox signs PayPal's webhooks (Stripe's are signed by the stripe library)."""
import hashlib
import hmac
import zlib

_PAYPAL_SIGNING_KEY = b"the sandbox's PayPal signing key"


def paypal_signature(transmission_id, transmission_time, webhook_id, body):
    """PayPal signs "<transmission id>|<time>|<webhook id>|<crc32 of the body>"; the sandbox
    with an HMAC instead of its certificate's private key."""
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"
    return hmac.new(_PAYPAL_SIGNING_KEY, message.encode(), hashlib.sha256).hexdigest()


def stripe_signature_header(payload, secret, timestamp=None):
    """The Stripe-Signature header Stripe sends with `payload` (Stripe's own scheme, by the
    stripe library), signed at `timestamp` (default: now)."""
    import time

    import stripe
    text = payload.decode() if isinstance(payload, bytes) else payload
    return stripe.WebhookSignature.generate_signature_header(
        text, secret, timestamp=int(timestamp or time.time()))


def paypal_headers(body, webhook_id, transmission_time=None, transmission_id=None):
    """The PAYPAL-* headers of a delivery of `body` (bytes) to `webhook_id`; only the
    sandbox's verify-webhook-signature accepts them, as only PayPal verifies PayPal's."""
    import secrets
    import time

    from sandbox.times import iso
    transmission_id = transmission_id or secrets.token_hex(16)
    sent = transmission_time or iso(int(time.time()))
    return {"PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/"
                               "CERT-360caa42-fca2a594-sandbox",
            "PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": sent,
            "PAYPAL-TRANSMISSION-SIG": paypal_signature(transmission_id, sent, webhook_id,
                                                        body)}
