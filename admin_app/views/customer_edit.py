"""Editing a customer (started from the profile, support and owner): the form with its
avatar, a refusal that names the field, an avatar chosen before a refusal kept for the form
shown again, and the save through actions/customer_details.update_customer."""
from flask import current_app, flash, request
from flask_login import current_user

from actions.customer_details import update_customer
from actions.errors import ActionError
from admin_app import pending_avatar
from admin_app.composition import deps_from_app
from admin_app.forms import CustomerForm
from admin_app.redirects import get_redirect_target
from models import db


class CustomerEditMixin:
    """Flask-Admin's edit view of a customer, saved by the action function."""

    form = CustomerForm

    @property
    def can_edit(self):
        return current_user.is_authenticated and current_user.can("edit_customer")

    def edit_form(self, obj=None):
        form = CustomerForm(obj=obj, customer_id=obj.id if obj else None,
                            max_avatar_bytes=current_app.config["AVATAR_MAX_BYTES"],
                            max_avatar_pixels=current_app.config["AVATAR_MAX_PIXELS"])
        if obj is None or not obj.avatar:
            del form.remove_avatar  # nothing to remove
        return form

    def validate_form(self, form):
        """Flask-Admin's check; when it refuses, the message at the top says which field and
        why, and an avatar chosen meanwhile is kept for the form shown again."""
        if super().validate_form(form):
            return True
        if request.method == "POST":
            flash(f"Not saved — {form.errors_text()}", "error")
            self._keep_avatar(form)
        return False

    def _keep_avatar(self, form):
        if form.avatar_image is not None and form.customer_id is not None:
            if form.avatar.data and getattr(form.avatar.data, "filename", ""):
                pending_avatar.drop(form.customer_id, form.avatar_token.data)
                form.avatar_token.data = pending_avatar.keep(form.avatar_image,
                                                             form.customer_id)

    def update_model(self, form, model):
        try:
            result = update_customer(deps_from_app(), current_user, model.id, form.details(),
                                     form.avatar_image, remove_avatar=form.removing_avatar())
        except ActionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            self._keep_avatar(form)
            return False
        if form.avatar_token.data:
            pending_avatar.drop(model.id, form.avatar_token.data)
        if result.category != "success":
            flash(result.message, result.category)
        return True  # Flask-Admin then confirms "Record was successfully saved."

    def get_save_return_url(self, model, is_created=False):
        return get_redirect_target() or self.get_url(".index_view")
