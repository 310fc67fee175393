"""Confirmation forms and summaries of the subscription bulk actions."""
from sqlalchemy import func, select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from actions.subscription_cancel import WHEN
from admin_app.bulk_views import BulkForm
from admin_app.templating import money
from models import Affiliate, Subscription, db
from models.money import parse_amount

LIVE = ("active", "trialing", "past_due", "paused")


class BulkCancelForm(BulkForm):
    when = SelectField("When", choices=[SelectChoice(k, v) for k, v in WHEN.items()])

    def params(self):
        return {"when": self.when.data}


class BulkAffiliateForm(BulkForm):
    affiliate = SelectField("Affiliate", coerce=str)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.affiliate.choices = [SelectChoice("", "— No affiliate —")] + [
            SelectChoice(str(a.id), a.name)
            for a in db.session.scalars(select(Affiliate).order_by(Affiliate.name))]

    def params(self):
        return {"affiliate_id": int(self.affiliate.data) if self.affiliate.data else None}


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


def subscription_summary(view, query):
    """Count and current prices per currency of the selected subscriptions."""
    ids = query.with_entities(Subscription.id).order_by(None).subquery()
    rows = db.session.execute(
        select(Subscription.currency, func.count(), func.sum(Subscription.price_cents))
        .join(ids, ids.c.id == Subscription.id).group_by(Subscription.currency)
        .order_by(Subscription.currency)).all()
    live = db.session.scalar(select(func.count()).select_from(Subscription)
                             .join(ids, ids.c.id == Subscription.id)
                             .where(Subscription.status.in_(LIVE))) or 0
    count = sum(r[1] for r in rows)
    lines = [(f"In {cur}", f"{n:,} subscription{'s' * (n != 1)}, {money(total, cur)} per "
              "cycle now") for cur, n, total in rows]
    notes = [] if live == count else [
        f"{count - live:,} of them are cancelled or not live: the job lists them as skipped."]
    return {"count": count, "lines": lines, "notes": notes,
            "currencies": [r[0] for r in rows]}
