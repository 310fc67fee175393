"""Ids in the vendors' published formats.

Stripe: a prefix and 24 base62 characters (``ch_3…``, ``pi_3…``, ``sub_1…``). PayPal (from
its OpenAPI descriptions): payer ids ``^[2-9A-HJ-NP-Z]{13}$``; captures, refunds, orders and
v1 sales 17 characters of ``[0-9A-Z]``; subscriptions ``I-`` + 12, plans ``P-`` + 24;
webhook events ``WH-``…; disputes ``PP-D-`` + digits.
"""
import random
import secrets
import string

BASE62 = string.digits + string.ascii_letters
BASE36 = string.digits + string.ascii_uppercase
PAYER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # [2-9A-HJ-NP-Z]
PAYER_ID_PATTERN = r"^[2-9A-HJ-NP-Z]{13}$"


#: where the ids' characters come from: the system's randomness, or a seeded generator
_source = [secrets.SystemRandom()]


def seed(value=None):
    """Ids from a generator seeded with `value` from now on (the same sequence every time:
    lists sorted by (created, id) come in the same order); None: random again."""
    _source[0] = secrets.SystemRandom() if value is None else random.Random(value)


def _pick(alphabet, length):
    choice = _source[0].choice
    return "".join(choice(alphabet) for _ in range(length))


def stripe(prefix, length=24):
    """``stripe("ch_3")`` -> ``ch_3`` + random base62."""
    return prefix + _pick(BASE62, length)


def paypal(length=17):
    """A capture / refund / order / sale id: 17 upper-case letters and digits."""
    return _pick(BASE36, length)


def payer_id():
    return _pick(PAYER_ALPHABET, 13)


def subscription_id():
    return "I-" + _pick(BASE36, 12)


def plan_id():
    return "P-" + _pick(BASE36, 24)


def event_id():
    return f"WH-{_pick(BASE36, 17)}-{_pick(BASE36, 17)}"


def dispute_id():
    return "PP-D-" + _pick(string.digits, 6)


def token():
    return "A21AA" + secrets.token_urlsafe(48)
