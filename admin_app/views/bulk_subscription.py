"""Confirmation forms and summaries of the subscription bulk actions."""
from sqlalchemy import func, or_, select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from actions.subscription_cancel import WHEN
from admin_app.bulk_views import BulkForm
from admin_app.templating import money
from admin_app.views.catalog import percent
from models import Affiliate, Subscription, db
from models._types import utcnow
from models.money import parse_amount
from models.sub_state import state_sql
from models.subscription import describe_cycle


class BulkCancelForm(BulkForm):
    when = SelectField("When", choices=[SelectChoice(k, v) for k, v in WHEN.items()])

    def params(self):
        return {"when": self.when.data}


class BulkAffiliateForm(BulkForm):
    affiliate = SelectField("Affiliate", coerce=str)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.affiliate.choices = [SelectChoice("", "— No affiliate —")] + [
            SelectChoice(str(a.id), f"{a.name} ({percent(a.commission_rate_bp)})")
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
    """Count and current prices per currency and billing cycle of the selected subscriptions
    (a monthly and a yearly price are never added together), and how many the job will
    skip because they are cancelled (models/sub_state.py: the same rule as the actions)."""
    ids = query.with_entities(Subscription.id).order_by(None).subquery()
    S = Subscription
    rows = db.session.execute(
        select(S.currency, S.interval, S.interval_count, func.count(), func.sum(S.price_cents))
        .join(ids, ids.c.id == S.id).group_by(S.currency, S.interval, S.interval_count)
        .order_by(S.currency, S.interval, S.interval_count)).all()
    now = utcnow()
    ended = db.session.scalar(select(func.count()).select_from(S).join(ids, ids.c.id == S.id)
                              .where(or_(state_sql("cancelling", now),
                                         state_sql("cancelled", now)))) or 0
    count = sum(r[3] for r in rows)
    lines = [(f"In {cur}, {describe_cycle(interval, n_int).lower()}",
              f"{n:,} subscription{'s' * (n != 1)}, {money(total, cur)} per "
              f"{_period(interval, n_int)} now")
             for cur, interval, n_int, n, total in rows]
    notes = [] if not ended else [
        f"{ended:,} of them {'is' if ended == 1 else 'are'} cancelled: the job lists "
        f"{'it' if ended == 1 else 'them'} as skipped and changes nothing there."]
    currencies = sorted({r[0] for r in rows})
    return {"count": count, "lines": lines, "notes": notes, "currencies": currencies}


def _period(interval, count):
    return interval if count == 1 else f"{count} {interval}s"
