"""The Stripe requests of the subscription verbs use only parameters that stripe-python 16's
generated types (from Stripe's OpenAPI spec) know, at every nesting level."""
import re
import sys
import typing

import pytest
import typing_extensions
from stripe._encode import _api_encode  # how the SDK turns params into form keys
from stripe.params import InvoiceCreatePreviewParams, SubscriptionUpdateParams

from actions.gateways.base import SubscriptionState
from actions.gateways.stripe_subscriptions import PAUSE_BEHAVIOR, _change, _item


def _resolve(value, module):
    """An annotation (maybe a string or ForwardRef) -> the type, NotRequired/List/Union unwrapped
    down to the TypedDict it names, if any."""
    if isinstance(value, typing.ForwardRef):
        value = value.__forward_arg__
    if isinstance(value, str):
        value = eval(value, {**vars(typing), **vars(typing_extensions), **vars(module)})
    origin, args = typing.get_origin(value), typing.get_args(value)
    if origin in (typing_extensions.NotRequired, typing.NotRequired, list, typing.List):
        return _resolve(args[0], module)
    if origin is typing.Union:
        for arg in args:
            found = _resolve(arg, module)
            if typing_extensions.is_typeddict(found):
                return found
    return value


def _hint(cls, name):
    for klass in cls.__mro__:
        annotations = klass.__dict__.get("__annotations__", {})
        if name in annotations:
            return _resolve(annotations[name], sys.modules[klass.__module__])
    raise AssertionError(f"{cls.__name__} has no parameter {name!r}")


def unknown_keys(root, params):
    """The form keys of params (as the SDK encodes them) that root's types do not know."""
    unknown = []
    for key, _ in _api_encode(params):
        current = root
        for part in re.findall(r"[^\[\]]+", key):
            if part.isdigit():
                continue
            try:
                current = _hint(current, part)
            except AssertionError:
                unknown.append(key)
                break
    return unknown


STATE = SubscriptionState("sub_1", "active", item_ref="si_1", product_ref="prod_1")
PRICE_ITEM = _item(STATE, 4500, "USD", "month", 1, None)
PLAN_ITEM = _item(STATE, None, None, None, None, "price_2")


@pytest.mark.parametrize("params", [
    _change(PRICE_ITEM, "always_invoice", 1796000000),
    _change(PLAN_ITEM, "none", None),
    {"cancel_at_period_end": True},
    {"pause_collection": {"behavior": PAUSE_BEHAVIOR, "resumes_at": 1798000000}},
    {"pause_collection": ""},
])
def test_subscription_update_parameters_exist(params):
    assert unknown_keys(SubscriptionUpdateParams, params) == []


def test_invoice_preview_parameters_exist():
    details = {"items": [PRICE_ITEM], "proration_behavior": "create_prorations",
               "proration_date": 1796000000}
    assert unknown_keys(InvoiceCreatePreviewParams,
                        {"subscription": "sub_1", "subscription_details": details}) == []


def test_a_misspelt_parameter_is_caught():
    assert unknown_keys(SubscriptionUpdateParams, {"items": [{"id": "si_1", "prise": "p"}]}) == [
        "items[0][prise]"]
