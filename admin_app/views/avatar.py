"""A customer's avatar, served from the file store (never cached by the browser)."""
from flask import abort, send_file
from flask_admin import expose
from sqlalchemy import select

from admin_app import pending_avatar
from admin_app.filestore import avatar_store
from models import Customer, db


class AvatarMixin:
    """/avatar/<id>: the stored WebP image of a customer, to logged-in admins only."""

    @expose("/avatar/<int:customer_id>")
    def avatar_view(self, customer_id):
        name = db.session.scalar(select(Customer.avatar).where(Customer.id == customer_id))
        if not name:
            abort(404)
        store = avatar_store()
        try:
            data = store.open(name)
        except FileNotFoundError:
            abort(404)
        response = send_file(data, mimetype="image/webp", max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/avatar/<int:customer_id>/kept/<token>")
    def kept_avatar_view(self, customer_id, token):
        """The avatar chosen on a refused Edit customer form (admin_app/pending_avatar.py), to
        the roles that may edit customers (only they can have chosen one)."""
        if not self.can_edit:
            abort(403)
        try:
            data = pending_avatar.open_kept(customer_id, token)
        except FileNotFoundError:
            abort(404)
        response = send_file(data, mimetype="image/webp", max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response
