"""The one shared piece behind every row action: button, modal, CSRF, role, audit, flash."""
from flask import abort, flash, jsonify, redirect, request
from flask_admin import expose
from flask_admin.model.template import TemplateLinkRowAction
from flask_login import current_user
from markupsafe import Markup

from actions import audit, get_action
from actions.errors import ActionError
from admin_app.composition import deps_from_app
from admin_app.redirects import get_redirect_target
from admin_app.templating import action_links
from models import db

# Sent by the pop-up's own form submission (templates/admin/memberdesk_base.html): the answer
# is then the pop-up's new content (errors, what was typed) or {"redirect": url} once done.
POPUP_HEADER = "X-Memberdesk-Popup"


def _from_popup():
    return request.headers.get(POPUP_HEADER) == "1"


def _finished(return_url):
    """Where to go once the request is over (its message flashed): the page, or the pop-up's."""
    if _from_popup():
        return jsonify(redirect=return_url)
    return redirect(return_url)


def _renew_hidden_fields(form, fresh):
    """A refused form is shown again as typed, with fresh bookkeeping (a new request key).

    `fresh` is the action's form built anew; its hidden fields' own values (object_data: the
    posted ones override .data) replace the ones sent.
    """
    for field in form:
        if field.type == "HiddenField" and field.name in fresh:
            field.data = fresh[field.name].object_data


class ActionButton(TemplateLinkRowAction):
    """Flask-Admin row action that renders an action's modal button."""

    def __init__(self, action):
        super().__init__("memberdesk.row_action_button", action.title)
        self.action = action

    def page_renderer(self, context):
        """(row id, row) -> this button in a list row, as the row_action_button macro writes
        it; whether the admin's role allows the action is asked once for the page, whether
        the row's state allows it once per row (SecureModelView.list_rows_html, issue 22)."""
        link = action_links(self.action, ".row_action_view", context.resolve("return_url"),
                            True, current_user.can(self.action.permission))

        def render(row_id, row):
            return Markup(f"\n  {link(row)}\n")  # link: markup already
        return render


class RowActionsMixin:
    """Give a ModelView the actions named in `row_actions`, with one endpoint for all."""

    row_actions = ()

    def __init__(self, *args, **kwargs):
        self.column_extra_row_actions = [ActionButton(get_action(n)) for n in self.row_actions]
        super().__init__(*args, **kwargs)

    def _refuse(self, action, obj, message, return_url):
        """Say why, change nothing; a refused POST is audited, a GET writes nothing."""
        if request.method != "POST":
            abort(403)
        audit.record_refusal(current_user, action.name, obj, outcome="denied", message=message)
        flash(message, "error")
        return _finished(return_url)

    @expose("/action/<action_name>/<int:obj_id>/", methods=("GET", "POST"))
    def row_action_view(self, action_name, obj_id):
        if action_name not in self.row_actions:
            abort(404)
        action = get_action(action_name)
        obj = self.get_one(str(obj_id))
        if obj is None:
            abort(404)
        return_url = get_redirect_target() or self.get_url(".index_view")

        needed = action.submit_needs() if request.method == "POST" else action.permission
        if not current_user.can(needed):
            return self._refuse(action, obj, f"Your role ({current_user.role}) does not allow "
                                f"“{action.title}” ({needed.replace('_', ' ')}); nothing was "
                                "changed.", return_url)
        if not action.available(obj):
            if request.method != "POST":
                return self.render("actions/_unavailable.html", action=action,
                                   message=action.why_unavailable(obj), return_url=return_url,
                                   modal=bool(request.args.get("modal")))
            return self._refuse(action, obj, action.why_unavailable(obj), return_url)

        deps = deps_from_app()
        form = action.form(obj, deps)
        error = None
        if request.method == "POST" and form.validate_on_submit():
            try:
                result = action.perform(obj, form, current_user, deps)
            except ActionError as exc:
                db.session.rollback()
                if not exc.audited:
                    audit.record_refusal(current_user, action.name,
                                         (obj.__tablename__, obj_id), outcome="rejected",
                                         message=exc.message)
                if not _from_popup() or getattr(exc, "outcome_unknown", False):
                    flash(exc.message, "error")  # (a pending outcome: nothing to resubmit)
                    return _finished(return_url)
                error = exc.message  # refused: the pop-up again, with what was typed
                _renew_hidden_fields(form, action.form(obj, deps))
            else:
                flash(result.message, result.category)
                return _finished(return_url)

        return self.render(action.template, action=action, obj=obj, form=form, error=error,
                           return_url=return_url,
                           modal=bool(request.args.get("modal")) or _from_popup(),
                           **action.context(obj, deps))
