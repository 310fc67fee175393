"""Bulk: cancel the selected subscriptions (now or at the end of the paid period)."""
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from actions.bulk.base import BulkAction, BulkForm
from actions.bulk.subscription_rows import once, sub_gateway, subscription_summary
from actions.subscription_cancel import WHEN, cancel_subscription
from models import Subscription


class BulkCancelForm(BulkForm):
    when = SelectField("When", choices=[SelectChoice(k, v) for k, v in WHEN.items()])

    def params(self):
        return {"when": self.when.data}


def cancel_row(deps, actor, sub_id, params, request_key):
    return once(lambda key: cancel_subscription(deps, actor, sub_id, when=params["when"],
                                                request_key=key), request_key)


ACTION = BulkAction(
    name="cancel_subscription", title="Cancel subscriptions", menu="Cancel subscriptions",
    permission="cancel_subscription", model=Subscription, run_row=cancel_row,
    gateway_of=sub_gateway, requests_per_row=2, danger=True,
    form=BulkCancelForm, summary=subscription_summary)
