"""Bulk actions: what a background job does to each row of a list's selection, through the
same action function as the row action (same permission and precondition checks, the job's
actor).

BULK_ACTIONS is the explicit registry: each name is a module of this package that defines
`ACTION = BulkAction(...)` with the same name (its row function, confirmation form and
summary). A view lists the names it offers in `bulk_actions`. Adding a bulk action is one
module plus its name here and in a view (docs/ACTIONS.md).
"""
import importlib
from collections.abc import Mapping

from actions.bulk.base import BulkAction, BulkForm, RowOutcome, count_summary, outcome_of

NAMES = ("refund_remaining", "resend_latest_invoice", "cancel_subscription",
         "set_subscription_affiliate", "change_subscription_price", "export_customers")


class Registry(Mapping):
    """name -> BulkAction, each imported from actions/bulk/<name>.py when first asked for."""

    def __init__(self, names):
        self.names = tuple(names)

    def __getitem__(self, name):
        if name not in self.names:
            raise KeyError(name)
        action = importlib.import_module(f"{__name__}.{name}").ACTION
        assert action.name == name, f"actions/bulk/{name}.py declares {action.name!r}"
        return action

    def __iter__(self):
        return iter(self.names)

    def __len__(self):
        return len(self.names)


BULK_ACTIONS = Registry(NAMES)

__all__ = ["BULK_ACTIONS", "BulkAction", "BulkForm", "RowOutcome", "count_summary",
           "outcome_of"]
