"""The profile's Timeline tab: a page of the customer's history (the tab fetches it, and the
next one with "Older"), and the form that adds an internal note."""
from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_login import current_user

from actions import audit
from actions.customer_notes import add_note
from actions.errors import ActionError, NotAllowed
from actions.timeline import timeline_page
from admin_app.input_guard import BadInput
from models import NOTE_MAX_LENGTH, Customer, db


class TimelineMixin:
    """/profile/<id>/timeline/ (a fragment: ?before=<cursor> for older entries) and
    /profile/<id>/notes/ (POST: add a note; back to the profile's Timeline tab)."""

    @expose("/profile/<int:customer_id>/timeline/")
    def timeline_view(self, customer_id):
        if db.session.get(Customer, customer_id) is None:
            abort(404)
        try:
            page = timeline_page(customer_id, request.args.get("before"))
        except ActionError as exc:
            raise BadInput(exc.message) from None
        return self.render("customers/_timeline.html", customer_id=customer_id, page=page,
                           first=request.args.get("before") is None,
                           note_max=NOTE_MAX_LENGTH)

    @expose("/profile/<int:customer_id>/notes/", methods=("POST",))
    def note_view(self, customer_id):
        customer = db.session.get(Customer, customer_id) or abort(404)
        back = self.get_url(".index_view", profile=customer.id, tab="timeline")
        try:
            result = add_note(current_user, customer.id, request.form.get("note", ""))
        except ActionError as exc:
            db.session.rollback()
            audit.record_refusal(current_user, "customer.note", customer,
                                 outcome="denied" if isinstance(exc, NotAllowed)
                                 else "rejected", message=exc.message)
            flash(exc.message, "error")
            return redirect(back)
        flash(result.message, result.category)
        return redirect(back)
