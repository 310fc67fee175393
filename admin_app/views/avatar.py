"""A customer's avatar, served from the file store (never cached by the browser)."""
from flask import abort, send_file
from flask_admin import expose
from sqlalchemy import select

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
