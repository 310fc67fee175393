"""The one shared piece behind every row action: button, modal, CSRF, role, audit, flash."""
from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_admin.model.template import TemplateLinkRowAction
from flask_login import current_user

from actions import audit, get_action
from actions.errors import ActionError
from admin_app.composition import deps_from_app
from models import db


class ActionButton(TemplateLinkRowAction):
    """Flask-Admin row action that renders an action's modal button."""

    def __init__(self, action):
        super().__init__("memberdesk.row_action_button", action.title)
        self.action = action


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
        return redirect(return_url)

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
        if request.method == "POST" and form.validate_on_submit():
            try:
                result = action.perform(obj, form, current_user, deps)
            except ActionError as exc:
                db.session.rollback()
                if not exc.audited:
                    audit.record_refusal(current_user, action.name,
                                         (obj.__tablename__, obj_id), outcome="rejected",
                                         message=exc.message)
                flash(exc.message, "error")
            else:
                flash(result.message, result.category)
            return redirect(return_url)

        return self.render(action.template, action=action, obj=obj, form=form,
                           return_url=return_url, modal=bool(request.args.get("modal")),
                           **action.context(obj, deps))
