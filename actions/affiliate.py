"""Edit Sale: change a payment's affiliate and commission, audited with before/after."""
from decimal import Decimal
from functools import partial

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from actions import audit
from actions.base import ActionResult, RowAction
from actions.commission import sale_base
from actions.errors import InvalidRequest
from actions.locks import lock_transaction
from actions.permissions import require
from models import Affiliate, db
from models.money import parse_amount, plain_amount


def set_sale_affiliate(deps, actor, tx_id, affiliate_id, commission_cents):
    """Give a succeeded payment another affiliate (or none) and commission; 0 ≤ commission ≤ net."""
    require(actor, "edit_affiliate")
    tx = lock_transaction(tx_id)
    if tx.status != "succeeded":
        raise InvalidRequest(f"Only a successful payment has an affiliate commission; this one "
                             f"is {tx.status}. Nothing was changed.")
    if affiliate_id is not None and db.session.get(Affiliate, affiliate_id) is None:
        raise InvalidRequest("That affiliate no longer exists.")
    if affiliate_id is None and commission_cents:
        raise InvalidRequest("A sale without an affiliate has no commission.")
    money = partial(deps.money, currency=tx.currency)
    if not 0 <= commission_cents <= tx.net_cents:
        raise InvalidRequest(f"The commission must be between {money(0)} and the net amount "
                             f"of the sale, {money(tx.net_cents)}.")
    before = {"affiliate_id": tx.affiliate_id, "commission_cents": tx.commission_cents}
    after = {"affiliate_id": affiliate_id, "commission_cents": commission_cents}
    if before == after:
        db.session.rollback()
        return ActionResult("Nothing changed.", "info")
    tx.affiliate_id, tx.commission_cents = affiliate_id, commission_cents
    audit.record(actor, "sale.affiliate", tx, outcome="succeeded", before=before, after=after)
    db.session.commit()
    who = tx.affiliate.name if tx.affiliate else "no affiliate"
    return ActionResult(
        f"The sale now goes to {who} with a commission of {money(commission_cents)}.")


class EditSaleForm(FlaskForm):
    affiliate = SelectField("Affiliate", coerce=str, render_kw={"data-role": "select2"})
    commission = StringField("Commission", validators=[DataRequired()],
                             description="Filled in from the affiliate's rate when you change "
                                         "the affiliate; adjust it if needed.")

    def __init__(self, *args, currency, locale="en_US", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.locale = currency, locale
        self.affiliate.choices = [SelectChoice("", "— No affiliate —")] + [
            SelectChoice(str(a.id), f"{a.name} ({Decimal(a.commission_rate_bp).scaleb(-2)} %)")
            for a in db.session.scalars(select(Affiliate).order_by(Affiliate.name))]

    def validate_commission(self, field):
        try:
            self.commission_cents = parse_amount(field.data, self.currency, self.locale)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _form(tx, deps):
    return EditSaleForm(currency=tx.currency, locale=deps.locale,
                        affiliate=str(tx.affiliate_id or ""),
                        commission=plain_amount(tx.commission_cents, tx.currency))


def _perform(tx, form, actor, deps):
    affiliate_id = int(form.affiliate.data) if form.affiliate.data else None
    return set_sale_affiliate(deps, actor, tx.id, affiliate_id, form.commission_cents)


def _context(tx, deps):
    rates = {str(a.id): a.commission_for(sale_base(tx))
             for a in db.session.scalars(select(Affiliate))}
    return {"default_commissions": {k: plain_amount(v, tx.currency) for k, v in rates.items()}}


ACTION = RowAction(
    name="affiliate", title="Affiliate", icon="fa-bullhorn", permission="edit_affiliate",
    template="actions/affiliate.html", form=_form, perform=_perform, context=_context,
    available=lambda tx: tx.status == "succeeded",
    unavailable_message="Only a successful payment has an affiliate commission; "
                        "nothing was changed.")
