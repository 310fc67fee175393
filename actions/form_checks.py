"""Checks shared by the forms: no hidden text-direction characters, the form's own request key."""
import re

from wtforms.validators import ValidationError

from actions.errors import InvalidRequest

# Explicit direction marks, embeddings, overrides and isolates: invisible, and able to make
# "Bob‮ moc.live" read as something else in the list, the CSV and the emails.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The refund form's double-submit token, as the server generates it (uuid4().hex).
REQUEST_KEY = re.compile(r"[0-9a-f]{32}")
STALE_FORM = ("This form is incomplete or was changed (its request key is missing or not "
              "ours). Reload it and try again; nothing was changed.")


def no_bidi_controls(form, field):
    """WTForms validator: refuse invisible text-direction characters (U+202A–202E etc.)."""
    found = BIDI_CONTROLS.search(field.data or "")
    if found:
        raise ValidationError(
            f"{field.label.text} contains an invisible text-direction character "
            f"(U+{ord(found.group()):04X}) that can make it read differently; remove it.")


def server_request_key(form, field):
    """WTForms validator: the hidden request key must be the one the server put in the form."""
    if not REQUEST_KEY.fullmatch(field.data or ""):
        raise ValidationError(STALE_FORM)


def checked_request_key(key, max_length=64):
    """For action functions: None (no key) or a non-blank key that fits the column; else refused.

    A blank key would switch the double-submit check off, an over-long one fail in the database.
    """
    if key is not None and (not key.strip() or len(key) > max_length):
        raise InvalidRequest(STALE_FORM)
    return key
