"""The declaration of a row action: what an action module hands to the shared mechanism."""
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class ActionResult:
    """What the admin is told after an action: a flash message and its category."""

    message: str
    category: str = "success"


def _no_context(obj, deps):
    return {}


def _always(obj):
    return True


@dataclass(frozen=True)
class RowAction:
    """A button on a row that opens a modal, and what happens when its form is sent.

    form(obj, deps) builds the form (a FlaskForm: CSRF included); perform(obj, form, actor,
    deps) calls the action function, which checks permission and preconditions itself, and
    returns an ActionResult or raises ActionError. context(obj, deps) adds what the modal
    shows: `summary` (label, value) rows and `consequences` lines for the default layout, or
    anything a special template reads. available(obj) hides the button where it cannot apply;
    the shared view refuses such a request too, and the action function re-checks under its
    row lock. The modal opens with `permission`; the form is accepted with
    `submit_permission` when that is set.
    """

    name: str
    title: str
    icon: str
    permission: str
    form: Callable[[Any, Any], Any]
    perform: Callable[[Any, Any, Any, Any], ActionResult]
    context: Callable[[Any, Any], dict] = field(default=_no_context)
    available: Callable[[Any], bool] = field(default=_always)
    template: str = "actions/_layout.html"
    submit_label: str = "Save"
    danger: bool = False
    #: why the button is hidden, said when a request comes anyway (text, or obj -> text)
    unavailable_message: Any = "This action does not apply to this record; nothing was changed."
    #: a stricter permission for sending the form than for opening the modal
    submit_permission: str | None = None

    def submit_needs(self):
        return self.submit_permission or self.permission

    def why_unavailable(self, obj):
        message = self.unavailable_message
        return message(obj) if callable(message) else message
