"""Bulk: a new price for the selected subscriptions, from each one's next renewal."""
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from actions.bulk.base import BulkAction, BulkForm
from actions.bulk.subscription_rows import once, sub_gateway, subscription_summary
from actions.errors import InvalidRequest
from actions.subscription_price import change_subscription_price
from models import Subscription, db
from models.money import parse_amount


class BulkPriceForm(BulkForm):
    currency = SelectField("Currency of the new price")
    amount = StringField("New price per billing cycle, from the next renewal",
                         validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currencies = self.summary.get("currencies") or ["USD"]
        self.currency.choices = [SelectChoice(c, c) for c in currencies]

    def validate_amount(self, field):
        try:
            self.amount_cents = parse_amount(field.data, self.currency.data or "USD")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if self.amount_cents <= 0:
            raise ValidationError("Enter a price greater than zero.")

    def params(self):
        return {"amount_cents": self.amount_cents, "currency": self.currency.data}


def price_row(deps, actor, sub_id, params, request_key):
    currency = db.session.scalar(select(Subscription.currency).where(Subscription.id == sub_id))
    if currency is not None and currency != params["currency"]:
        raise InvalidRequest(f"This subscription is billed in {currency}; the new price is in "
                             f"{params['currency']}. Nothing was changed.")
    return once(lambda key: change_subscription_price(
        deps, actor, sub_id, params["amount_cents"], effective="next_renewal",
        request_key=key), request_key)


ACTION = BulkAction(
    name="change_subscription_price", title="Change the price from the next renewal",
    menu="Change price from the next renewal", permission="change_subscription",
    model=Subscription, run_row=price_row, gateway_of=sub_gateway,
    form=BulkPriceForm, summary=subscription_summary)
