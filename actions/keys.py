"""Idempotency keys: derived from our own row, unique per installation and per row.

`md-<installation>-<kind>-<row id>-<nonce>`: the installation id (stored in the database,
made once) keeps two installations on one gateway account apart; the random nonce, stored on
the row with the key before the gateway hears of it, keeps a row id that comes back after a
database restore from repeating a key the gateway has seen. A retry of the row reads the same
stored key, so it never acts twice. The key is also the id our objects carry at the gateway
(Stripe metadata `memberdesk_key`, PayPal `custom_id`).
"""
import secrets

from actions.gateways.base import METADATA_KEY  # noqa: F401 - where the key travels
from models.installation import installation_uid


def new_key(kind, row_id):
    """A fresh key for row `row_id` of `kind` (refund, change); store it on the row."""
    return f"md-{installation_uid()[:12]}-{kind}-{row_id}-{secrets.token_hex(4)}"
