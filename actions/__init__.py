"""Admin operations, one module each.

ROW_ACTIONS is the explicit registry of row actions: each name is a module of this package
that defines `ACTION = RowAction(...)` with the same name. A view lists the names it shows
in `row_actions`. Adding a row action is one module plus its name here and in a view.
"""
import importlib

ROW_ACTIONS = ("invoice", "refund", "check_refund", "affiliate",
               "subscription_price", "subscription_plan", "subscription_affiliate",
               "subscription_cancel", "subscription_undo_cancel", "subscription_pause",
               "subscription_resume", "subscription_approval", "subscription_withdraw",
               "webhook_reprocess")


def get_action(name):
    """The RowAction called `name`; KeyError for a name that is not registered."""
    if name not in ROW_ACTIONS:
        raise KeyError(name)
    action = importlib.import_module(f"actions.{name}").ACTION
    assert action.name == name, f"actions/{name}.py declares {action.name!r}"
    return action
