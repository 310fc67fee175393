"""Bulk: set (or remove) the affiliate of the selected subscriptions."""
from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from actions.bulk.base import BulkAction, BulkForm
from actions.bulk.subscription_rows import once, subscription_summary
from actions.subscription_affiliate import set_subscription_affiliate
from models import Affiliate, Subscription, db


class BulkAffiliateForm(BulkForm):
    affiliate = SelectField("Affiliate", coerce=str)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.affiliate.choices = [SelectChoice("", "— No affiliate —")] + [
            SelectChoice(str(a.id), f"{a.name} ({a.commission_rate_bp / 100:g} %)")
            for a in db.session.scalars(select(Affiliate).order_by(Affiliate.name))]

    def params(self):
        return {"affiliate_id": int(self.affiliate.data) if self.affiliate.data else None}


def affiliate_row(deps, actor, sub_id, params, request_key):
    return once(lambda key: set_subscription_affiliate(
        deps, actor, sub_id, params.get("affiliate_id"), request_key=key), request_key)


ACTION = BulkAction(
    name="set_subscription_affiliate", title="Change the affiliate", menu="Change affiliate",
    permission="edit_affiliate", model=Subscription, run_row=affiliate_row,
    form=BulkAffiliateForm, summary=subscription_summary)
