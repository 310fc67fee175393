"""Login, logout, the one-time set-password page and changing your own password."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from actions import admin_users
from actions.errors import ActionError
from admin_app import login_session, throttle
from admin_app.composition import deps_from_app
from models.admin_user import MIN_PASSWORD_LENGTH

bp = Blueprint("auth", __name__)


def printable(form, field):
    """No NUL or other control characters (they cannot be stored, nobody types them)."""
    if field.data and any(ord(c) < 32 or ord(c) == 127 for c in field.data):
        raise ValidationError("contains a control character.")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), printable])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024, message=(
            f"use at least {MIN_PASSWORD_LENGTH} characters (and at most 1024)."))])
    confirm = PasswordField("Repeat the password", validators=[
        DataRequired(), EqualTo("password", message="the two passwords differ.")])


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])


def _deps():
    return deps_from_app(clock=login_session.now)


def safe_next(target):
    """Only a local path is followed after login: never another host or scheme."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form, status = LoginForm(), 200
    if form.validate_on_submit():
        user = admin_users.authenticate(form.email.data, form.password.data,
                                        address=request.remote_addr)
        if user:
            login_session.start(user)
            return redirect(safe_next(request.args.get("next")) or url_for("admin.index"))
        flash("Wrong email or password.", "error")
        status = 401
    elif form.errors:
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        admin_users.log_out(current_user, address=request.remote_addr)
    login_session.end()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    """The page a one-time link opens: choose a password, then log in with it."""
    if admin_users.user_for_link(token, deps=_deps()) is None:
        return render_template("errors/error.html", code=404, message=(
            "This set-password link has expired or was already used. Ask an owner of "
            "Memberdesk for a new one.")), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = admin_users.set_password_from_link(token, form.password.data,
                                                      deps=_deps())
        except ActionError as exc:
            flash(exc.message, "error")
        else:
            login_session.end()
            flash(f"Your password is set. Log in as {user.email}.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form), 400 if form.errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change your own password: your other sessions end, this one starts afresh."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = admin_users.change_own_password(current_user, form.current.data,
                                                   form.password.data)
        except ActionError as exc:
            flash(exc.message, "error")
        else:
            login_session.start(user)
            flash("Your password is changed; your other sessions have ended.", "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/change_password.html", form=form), 400 if form.errors else 200


@bp.route("/")
def root():
    return redirect(url_for("admin.index") if current_user.is_authenticated
                    else url_for("auth.login"))


def init_app(app):
    app.register_blueprint(bp)
    throttle.init_app(app, login, set_password=set_password, change_password=change_password)
