"""The customer's profile pop-up: details and avatar, lifetime value, transactions newest first
(paged) with their row actions, and the subscriptions with theirs."""
from flask import abort, current_app, request
from flask_admin import expose
from flask_admin.model.template import BaseListRowAction
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from actions import get_action, ltv
from actions.ltv import uncounted_totals
from admin_app.input_guard import page_number
from admin_app.templating import action_links, profile_url
from admin_app.views.customer_list import uncounted_text
from admin_app.views.subscriptions import SubscriptionView
from admin_app.views.transactions import TransactionView
from models import Customer, Subscription, Transaction, db
from models.sub_state import one_instant

PROFILE_PAGE_SIZE = 25


def _links(names, endpoint, return_url, icon_only):
    """The buttons of the actions the admin's role allows, each as obj -> its markup (the
    role asked and the markup written once per pop-up, not per payment: issue 22)."""
    user = current_user._get_current_object()
    return [action_links(action, endpoint, return_url, icon_only, True)
            for action in map(get_action, names) if user.can(action.permission)]


class ProfileButton(BaseListRowAction):
    """A row's Profile button (the pop-up, ?profile=<id> in the address): written here, not
    by a template macro called for each row (issue 22)."""

    HTML = ('\n  <a class="btn btn-sm btn-primary" data-toggle="modal" '
            'data-target="#fa_modal_window"\n     data-profile="%s" title="Profile"\n'
            '     href="%s">\n    <span class="fa fa-user"></span> Profile</a>\n')

    def render(self, context, row_id, row):
        return Markup(self.HTML % (escape(row_id), escape(profile_url(row_id))))

    def page_renderer(self, context):
        """render() for every row of a page: the profile route's address split once."""
        head, tail = (escape(part) for part in profile_url(0).split("/0/", 1))
        html = self.HTML

        def render(row_id, row):
            row_id = escape(row_id)
            return Markup(html % (row_id, f"{head}/{int(row_id)}/{tail}"))
        return render


class ProfileMixin:
    """/profile/<id>/: the pop-up's content (the list page opens it with ?profile=<id>);
    each row's only button opens it (editing starts from the profile, as the guide says)."""

    column_extra_row_actions = [ProfileButton("Profile")]

    def get_list_row_actions(self):
        """Only the Profile button."""
        return list(self.column_extra_row_actions)

    @expose("/profile/<int:customer_id>/")
    def profile_view(self, customer_id):
        customer = db.session.get(Customer, customer_id) or abort(404)
        page = page_number(max(request.args.get("tx_page", 0, type=int), 0), PROFILE_PAGE_SIZE,
                           "transactions page")
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
        return_url = self.get_url(".index_view", profile=customer_id)
        with one_instant():  # each subscription's state once, not once per button
            return self._render_profile(customer, customer_id, rows, page, subscriptions,
                                        return_url)

    def _render_profile(self, customer, customer_id, rows, page, subscriptions, return_url):
        return self.render(
            "customers/profile.html", customer=customer,
            ltv_foreign=ltv.foreign_share(customer_id,
                                          current_app.config["STORE_CURRENCY"]),
            transactions=rows[:PROFILE_PAGE_SIZE], has_older=len(rows) > PROFILE_PAGE_SIZE,
            tx_page=page, subscriptions=subscriptions,
            uncounted=uncounted_text(uncounted_totals(
                [customer_id], current_app.config["STORE_CURRENCY"]).get(customer_id, ())),
            modal=bool(request.args.get("modal")), return_url=return_url,
            tx_links=_links(TransactionView.row_actions, "transaction.row_action_view",
                            return_url, False),
            sub_links=_links(SubscriptionView.row_actions, "subscription.row_action_view",
                             self.get_url(".index_view", profile=customer_id,
                                          tab="subscriptions"), True))
