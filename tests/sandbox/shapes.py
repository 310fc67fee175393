"""Checks of the sandbox's answers against the vendors' published shapes: stripe-python's
typed classes (the fields each object declares, the ones it always has) and PayPal's OpenAPI
descriptions (the ids' patterns, money objects, required fields)."""
import re
import types
import typing

import stripe
from stripe._util import convert_to_stripe_object

MONEY = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # PayPal's money.value


def _fields(cls):
    hints = {}
    for klass in reversed(cls.__mro__):
        hints.update({k: v for k, v in getattr(klass, "__annotations__", {}).items()
                      if not k.startswith("_") and k != "OBJECT_NAME"})
    return hints


def _nullable(hint):
    return type(None) in typing.get_args(hint)


def _inner(hint):
    """The StripeObject class a field holds, when it holds one."""
    candidates = [hint, *typing.get_args(hint)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, stripe.StripeObject) and \
                candidate is not stripe.StripeObject and \
                "UntypedStripeObject" not in candidate.__name__:
            return candidate
    return None


def stripe_problems(data, cls=None, where=""):
    """Fields `data` has that its stripe-python class does not declare, and non-nullable
    fields it lacks; [] when it fits. Nested typed objects are checked too."""
    if cls is None:
        obj = convert_to_stripe_object(data)
        cls = type(obj)
        if cls is stripe.StripeObject:
            return [f"{where or data.get('object')}: stripe-python has no type for it"]
    declared = _fields(cls)
    problems = [f"{where}{key}: not a field of {cls.__name__}" for key in data
                if key not in declared]
    for key, hint in declared.items():
        if isinstance(hint, typing._GenericAlias) and hint.__origin__ is typing.ClassVar:
            continue
        if key not in data:
            if not _nullable(hint):
                problems.append(f"{where}{key}: missing from {cls.__name__}")
            continue
        inner = _inner(hint)
        if inner is not None and isinstance(data[key], dict) and \
                not issubclass(inner, stripe.APIResource):
            problems += stripe_problems(data[key], inner, f"{where}{key}.")
    return problems


def paypal_problems(data, required=(), money=(), patterns=None):
    """Missing required fields, money objects not in PayPal's form, ids off their pattern."""
    problems = [f"{key}: missing" for key in required if key not in data]
    for key in money:
        amount = data.get(key)
        if amount is not None and (not isinstance(amount, dict) or
                                   not re.match(r"^[A-Z]{3}$", amount.get("currency_code", ""))
                                   or not MONEY.match(str(amount.get("value")))):
            problems.append(f"{key}: {amount!r} is not a PayPal money object")
    for path, pattern in (patterns or {}).items():
        value = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or not re.match(pattern, str(value)):
            problems.append(f"{path}: {value!r} does not match {pattern}")
    return problems


__all__ = ["paypal_problems", "stripe_problems", "types"]
