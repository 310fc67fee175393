"""The declaration of a row action: what an action module hands to the shared mechanism."""
from dataclasses import dataclass, field
from typing import Any, Callable

REGISTRY = {}


@dataclass(frozen=True)
class ActionResult:
    """What the admin is told after an action: a flash message and its category."""

    message: str
    category: str = "success"


@dataclass(frozen=True)
class RowAction:
    """A button on a row that opens a modal, and what happens when its form is sent.

    form(obj) builds the form (a FlaskForm: CSRF included); perform(obj, form, actor) does the
    work through an action function and returns an ActionResult or raises ActionError;
    context(obj) adds what the modal shows (the modal opens with `permission`, the form is
    accepted with `submit_permission` when set); available(obj) hides the button where it cannot
    apply (the function still re-checks on the server).
    """

    name: str
    title: str
    icon: str
    permission: str
    template: str
    form: Callable[[Any], Any]
    perform: Callable[[Any, Any, Any], ActionResult]
    context: Callable[[Any], dict] = field(default=lambda obj: {})
    available: Callable[[Any], bool] = field(default=lambda obj: True)
    submit_label: str = "Save"
    danger: bool = False
    #: a stricter permission for sending the form than for opening the modal
    submit_permission: str | None = None


def register(action):
    """Make an action available to views by name (`row_actions = ["refund"]`)."""
    REGISTRY[action.name] = action
    return action


def get_action(name):
    return REGISTRY[name]
