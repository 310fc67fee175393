"""What a bulk action declares (`BulkAction`), what one row's call returns (`RowOutcome`) and
the confirmation form every bulk action starts from (`BulkForm`).

Each `run_row(deps, actor, target_id, params, request_key)` returns a RowOutcome or raises an
ActionError (the runner records NotAllowed/InvalidRequest as "skipped", gateway and mail
failures as "failed"). `request_key` is derived from (job, row): repeating a row never acts
twice (the refund action finds its own refund by that key).
"""
from dataclasses import dataclass, field
from typing import Callable

from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import HiddenField

from actions.form_checks import request_key_field
from models import db


@dataclass(frozen=True)
class RowOutcome:
    state: str  # "done" | "skipped" | "failed" | "unknown"
    message: str = ""


class BulkForm(FlaskForm):
    """The confirmation: the CSRF token, the count the admin saw and the form's one-time
    request key (the same confirmation sent twice finds the job it started). A bulk action
    with options subclasses it and returns them from params()."""

    expected_count = HiddenField()
    request_key = request_key_field()

    def __init__(self, *args, summary=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.summary = summary or {}

    def params(self):
        return {}


def count_summary(query, deps):
    """The confirmation's default summary: how many rows the job would go through."""
    ids = query.with_entities(query.column_descriptions[0]["entity"].id).order_by(None)
    return {"count": db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0,
            "lines": []}


@dataclass(frozen=True)
class BulkAction:
    """A per-row operation a job can run; `model` is what the row's target_id points at."""

    name: str
    title: str
    permission: str
    model: type
    run_row: Callable = None
    #: the label in the list's "With selected" menu; None: not offered there (a job started
    #: another way, e.g. a large export)
    menu: str = None
    #: the confirmation page: its form class and summary(query, deps) -> {"count", "lines",
    #: "notes"...} of the rows it would act on
    form: type = BulkForm
    summary: Callable = count_summary
    #: the gateway a row talks to (rate limit), or None when it sends no gateway request
    gateway_of: Callable = field(default=lambda target_id: None)
    #: email: mark the row "sending" (committed) before; never repeat a send on resume
    at_most_once: bool = False
    #: run_whole(deps, job): a job that is one piece of work (an export) instead of one call
    #: per row
    run_whole: Callable = None
    #: gateway requests one row makes (a cancel first reads the subscription)
    requests_per_row: int = 1
    #: the confirmation's button is red: it ends or refunds something
    danger: bool = False


def outcome_of(result):
    """An ActionResult -> RowOutcome (an "error" result is the gateway saying no)."""
    return RowOutcome("failed" if result.category == "error" else "done", result.message)
