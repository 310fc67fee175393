"""Sales > Customers: the list, the profile pop-up, edit details and avatar."""
from flask import abort, current_app, flash, redirect, request, send_from_directory
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_admin.model.template import TemplateLinkRowAction
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from actions.base import get_action
from actions.customer_details import update_customer
from actions.errors import ActionError
from admin_app.forms import CustomerForm
from admin_app.views.base import SecureModelView, money_formatter
from admin_app.views.subscriptions import SubscriptionView
from admin_app.views.transactions import TransactionView
from models import Customer, Subscription, Transaction, db

PROFILE_PAGE_SIZE = 25


class CustomerView(SecureModelView):
    list_template = "customers/list.html"
    edit_template = "customers/edit.html"
    column_list = ["name", "email", "lifetime_value_cents"]
    column_labels = {"lifetime_value_cents": "Lifetime Value"}
    column_sortable_list = ["name", "email", "lifetime_value_cents"]
    column_searchable_list = ["name", "email"]
    column_default_sort = ("created_at", True)
    column_extra_row_actions = [TemplateLinkRowAction("memberdesk.profile_button", "Profile")]
    column_formatters = {"lifetime_value_cents": money_formatter}
    form = CustomerForm

    @property
    def can_edit(self):
        return current_user.is_authenticated and current_user.can("edit_customer")

    def edit_form(self, obj=None):
        return CustomerForm(request.form if request.method == "POST" else None, obj=obj,
                            customer_id=obj.id if obj else None,
                            max_avatar_bytes=current_app.config["AVATAR_MAX_BYTES"])

    def update_model(self, form, model):
        try:
            result = update_customer(model.id, form.details(), form.avatar_image, current_user,
                                     current_app.config["AVATAR_DIR"])
        except ActionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return False
        flash(result.message, result.category)
        return True

    def get_save_return_url(self, model, is_created=False):
        return get_redirect_target() or self.get_url(".index_view")

    @expose("/profile/<int:customer_id>/")
    def profile_view(self, customer_id):
        customer = db.session.get(Customer, customer_id) or abort(404)
        page = max(request.args.get("tx_page", 0, type=int), 0)
        rows = db.session.scalars(
            select(Transaction)
            .options(selectinload(Transaction.refunds), joinedload(Transaction.affiliate))
            .where(Transaction.customer_id == customer_id)
            .order_by(Transaction.created_at.desc(), Transaction.id.desc())
            .limit(PROFILE_PAGE_SIZE + 1).offset(page * PROFILE_PAGE_SIZE)).all()
        subscriptions = db.session.scalars(
            select(Subscription).options(joinedload(Subscription.affiliate))
            .where(Subscription.customer_id == customer_id)
            .order_by(Subscription.start_date.desc(), Subscription.id.desc())).all()
        return self.render(
            "customers/profile.html", customer=customer,
            transactions=rows[:PROFILE_PAGE_SIZE], has_older=len(rows) > PROFILE_PAGE_SIZE,
            tx_page=page, subscriptions=subscriptions,
            tx_actions=[get_action(n) for n in TransactionView.row_actions],
            sub_actions=[get_action(n) for n in SubscriptionView.row_actions],
            modal=bool(request.args.get("modal")),
            return_url=self.get_url(".index_view", profile=customer_id))

    @expose("/avatar/<int:customer_id>")
    def avatar_view(self, customer_id):
        name = db.session.scalar(select(Customer.avatar).where(Customer.id == customer_id))
        if not name:
            abort(404)
        response = send_from_directory(current_app.config["AVATAR_DIR"], name, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response
