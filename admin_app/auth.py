"""Login, logout and the admin user loader."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from admin_app.extensions import login_manager
from models import AdminUser, db

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(AdminUser, int(user_id))


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


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
        user = db.session.scalar(
            select(AdminUser).where(func.lower(AdminUser.email) == form.email.data.lower()))
        if user and user.active and user.check_password(form.password.data):
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("admin.index"))
        flash("Wrong email or password.", "error")
        status = 401
    elif form.errors:
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def root():
    return redirect(url_for("admin.index") if current_user.is_authenticated
                    else url_for("auth.login"))
