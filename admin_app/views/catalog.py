"""Catalog: plans and affiliates, edited by owners through the actions in actions/catalog.py."""
from decimal import Decimal

from flask import flash, request
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from actions.catalog import create_affiliate, create_plan, update_affiliate, update_plan
from actions.errors import ActionError
from actions.form_checks import no_bidi_controls
from admin_app.composition import deps_from_app
from admin_app.views.base import SecureModelView, money_formatter
from models import db
from models.money import plain_amount
from models.subscription import INTERVALS


class CatalogView(SecureModelView):
    """Create and edit only with the manage_catalog permission; Flask-Admin's forms (with
    CSRF) collect the input, the action functions validate, audit and save it."""

    @property
    def can_create(self):
        return current_user.is_authenticated and current_user.can("manage_catalog")

    can_edit = can_create

    def fields(self, form):
        """The form's input as the action's plain `fields`."""
        return {name: field.data for name, field in form._fields.items()
                if name != "csrf_token"}

    def create_model(self, form):
        return self._call(self.create_action, form)

    def update_model(self, form, model):
        return bool(self._call(self.update_action, form, model.id))

    def _call(self, function, form, *row_id):
        try:
            return function(deps_from_app(), current_user, *row_id, self.fields(form))
        except ActionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return False

    def on_form_prefill(self, form, id):
        """Fill the typed fields (price, percentage) from the row on first display only."""
        if request.method == "GET":
            self.prefill(form, db.session.get(self.model, id))


class PlanView(CatalogView):
    column_list = ["name", "price_cents", "currency", "cycle", "active"]
    column_labels = {"price_cents": "Price"}
    column_formatters = {"price_cents": money_formatter}
    form_columns = ["name", "price", "currency", "interval", "interval_count",
                    "stripe_price_id", "paypal_plan_id", "active"]
    form_extra_fields = {
        "price": StringField("Price", validators=[InputRequired()],
                             description="In the plan's currency, e.g. 19.00"),
        "interval": SelectField("Interval", choices=[SelectChoice(i, i.capitalize())
                                                      for i in INTERVALS]),
    }
    form_args = {"name": {"validators": [no_bidi_controls]},
                 "currency": {"description": "ISO code, e.g. USD or EUR"},
                 "stripe_price_id": {"label": "Stripe price ID"},
                 "paypal_plan_id": {"label": "PayPal plan ID"},
                 "interval_count": {"label": "Every (intervals)",
                                    "description": "1 to 36"}}
    create_action, update_action = staticmethod(create_plan), staticmethod(update_plan)

    def prefill(self, form, plan):
        form.price.data = plain_amount(plan.price_cents, plan.currency)


class AffiliateView(CatalogView):
    column_list = ["name", "email", "commission_rate_bp"]
    column_labels = {"commission_rate_bp": "Commission"}
    column_formatters = {"commission_rate_bp": lambda v, c, m, n: percent(m.commission_rate_bp)}
    column_searchable_list = ["name", "email"]
    form_columns = ["name", "email", "commission_percent"]
    form_args = {"name": {"validators": [no_bidi_controls]}}
    form_extra_fields = {
        # the action checks uniqueness (case-insensitively, with the other affiliate's name)
        "email": StringField("Email", validators=[DataRequired()]),
        "commission_percent": StringField(
            "Commission (%)", validators=[DataRequired()],
            description="Default rate on the sales the affiliate brings, 0 to 100, e.g. 12.5")}
    create_action = staticmethod(create_affiliate)
    update_action = staticmethod(update_affiliate)

    def prefill(self, form, affiliate):
        form.commission_percent.data = percent(affiliate.commission_rate_bp, sign=False)


def percent(basis_points, sign=True):
    """1250 -> '12.5 %' (or '12.5')."""
    value = Decimal(basis_points).scaleb(-2).normalize()
    text = f"{value:f}"
    return f"{text} %" if sign else text
