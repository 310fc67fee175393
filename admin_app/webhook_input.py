"""What a webhook body must be before anything is stored: JSON no deeper than MAX_DEPTH (checked
on the raw bytes, before any parser recurses into it), an object with an id and a type that
are short printable text, and (Stripe) a `created` that is a plausible Unix time."""
import json
import re
from datetime import datetime, timezone
from itertools import accumulate

MAX_DEPTH = 64  # Stripe's and PayPal's events nest about 6 levels
MAX_ID = 255  # webhook_event.event_id: refused past this, never cut (two events would merge)
MAX_TYPE = 100
# Unix times an event can carry: 2010-01-01 to 2100-01-01.
MIN_CREATED, MAX_CREATED = 1262304000, 4102444800
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class NotAnEvent(ValueError):
    """The body is not an event; the message says why (sent back with a 400)."""


def nesting_depth(raw):
    """The deepest bracket nesting of the JSON text `raw` (bytes), strings left out."""
    outside = _STRING.sub(b"", raw)
    steps = (1 if b in b"[{" else -1 for b in _BRACKETS.findall(outside))
    return max(accumulate(steps, initial=0))


def check_depth(raw):
    if nesting_depth(raw) > MAX_DEPTH:
        raise NotAnEvent(f"the body is nested more than {MAX_DEPTH} levels deep: not an event")


def parse(raw):
    """The body as a dict, refused when too deep or not a JSON object."""
    check_depth(raw)
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        raise NotAnEvent("the body is not JSON") from None
    if not isinstance(event, dict):
        raise NotAnEvent("the body is not a JSON object")
    return event


def event_id(event):
    """The event's id: printable ASCII text of at most MAX_ID characters (never cut)."""
    value = event.get("id")
    if not isinstance(value, str) or not _PRINTABLE.fullmatch(value):
        raise NotAnEvent("the event has no id (printable text without blanks)")
    if len(value) > MAX_ID:
        raise NotAnEvent(f"the event id is longer than {MAX_ID} characters")
    return value


def event_type(event, key="type"):
    value = event.get(key)
    if not isinstance(value, str) or not _PRINTABLE.fullmatch(value) or len(value) > MAX_TYPE:
        raise NotAnEvent(f"the event has no {key} (printable text of at most {MAX_TYPE} "
                         "characters)")
    return value


def created_at(event):
    """Stripe's `created`: a whole number of seconds in range, as an aware datetime."""
    value = event.get("created")
    if type(value) is not int or not MIN_CREATED <= value <= MAX_CREATED:
        raise NotAnEvent("the event's 'created' is not a Unix time")
    return datetime.fromtimestamp(value, timezone.utc)
