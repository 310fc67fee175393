"""The gateways' timestamps as aware UTC datetimes: Stripe sends Unix seconds, PayPal RFC 3339
text ("2026-12-20T10:00:00Z"). No value (None, "", 0) is None."""
from datetime import datetime, timezone


def from_unix(value):
    """Stripe's Unix seconds (int or numeric text) -> aware UTC datetime, or None."""
    return datetime.fromtimestamp(int(value), timezone.utc) if value else None


def from_iso(text):
    """PayPal's RFC 3339 time ('Z' or an offset) -> aware datetime, or None."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
