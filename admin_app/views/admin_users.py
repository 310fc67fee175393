"""Admin users (owners only): invite, change role, deactivate/reactivate, end sessions.

Each POST parses one small form (CSRF included) and calls one function of
actions/admin_users.py, which checks manage_admins itself, audits and commits.
"""
from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_wtf import FlaskForm
from flask_login import current_user
from sqlalchemy import select
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from actions import admin_users
from actions.errors import ActionError, EmailFailed
from admin_app import login_session
from admin_app.composition import deps_from_app
from admin_app.views.base import AccessMixin
from models import AdminUser, ROLES, db

ROLE_CHOICES = [SelectChoice(r, r) for r in ("owner", "finance", "support", "viewer")
                if r in ROLES]


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


def _deps():
    """Collaborators of the admin-user actions: the session clock (tests move it)."""
    return deps_from_app(clock=login_session.now)


class AdminUsersView(AccessMixin, BaseView):
    permission = "manage_admins"

    @expose("/")
    def index(self, invite_form=None):
        users = db.session.scalars(select(AdminUser).order_by(AdminUser.email)).all()
        return self.render("auth/admin_users.html", users=users,
                           invite_form=invite_form or InviteForm(),
                           role_form=RoleForm, now=login_session.now())

    def _done(self):
        return redirect(url_for(".index"))

    def _run(self, form, call):
        """Validate `form` (CSRF), run `call()`; an ActionError becomes the flash message."""
        if not form.validate_on_submit():
            errors = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
            flash(f"Nothing was changed: {errors}.", "error")
            return None
        try:
            return call()
        except ActionError as exc:
            flash(exc.message, "error")
            return None

    def _link_hours(self):
        return current_app.config["PASSWORD_LINK_HOURS"]

    def _hand_out_link(self, user, token, what):
        link = url_for("auth.set_password", token=token, _external=True)
        until = f"{user.password_link_expires_at:%Y-%m-%d %H:%M} UTC"
        flash(f"{what} Their one-time set-password link (works once, until {until}): {link}",
              "success")
        if current_app.extensions["mail"].suppress:
            return
        try:
            admin_users.mail_password_link(user, link, deps=deps_from_app())
        except EmailFailed as exc:
            flash(f"{exc.message} Give them the link yourself.", "warning")
        else:
            flash(f"The link was e-mailed to {user.email}.", "info")

    @expose("/invite", methods=("POST",))
    def invite(self):
        form = InviteForm()
        done = self._run(form, lambda: admin_users.invite(
            current_user, form.email.data, form.role.data, deps=_deps(),
            link_hours=self._link_hours()))
        if not done:  # the form again, with what was typed and chosen, and why not
            return self.index(invite_form=form), 400
        user, token = done
        self._hand_out_link(user, token, f"{user.email} is invited as {user.role}.")
        return self._done()

    @expose("/<smallid:user_id>/password-link", methods=("POST",))
    def password_link(self, user_id):
        done = self._run(FlaskForm(), lambda: admin_users.new_password_link(
            current_user, user_id, deps=_deps(), link_hours=self._link_hours()))
        if done:
            user, token = done
            self._hand_out_link(user, token, f"A new link for {user.email} is ready; "
                                             "earlier links no longer work.")
        return self._done()

    @expose("/<smallid:user_id>/role", methods=("POST",))
    def change_role(self, user_id):
        form = RoleForm()
        user = self._run(form, lambda: admin_users.change_role(current_user, user_id,
                                                               form.role.data))
        if user:
            flash(f"{user.email} is now {user.role}; their sessions have ended.", "success")
        return self._done()

    @expose("/<smallid:user_id>/active", methods=("POST",))
    def set_active(self, user_id):
        active = request.form.get("active") == "1"
        user = self._run(FlaskForm(), lambda: admin_users.set_active(current_user, user_id,
                                                                     active))
        if user:
            flash(f"{user.email} is {'reactivated' if active else 'deactivated'}; "
                  "their sessions have ended.", "success")
        return self._done()

    @expose("/<smallid:user_id>/end-sessions", methods=("POST",))
    def end_sessions(self, user_id):
        user = self._run(FlaskForm(), lambda: admin_users.end_sessions(current_user, user_id))
        if user:
            flash(f"Every session of {user.email} has ended.", "success")
        return self._done()
