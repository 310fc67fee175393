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
