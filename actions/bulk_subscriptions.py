"""Bulk subscription actions: cancel, change affiliate, change price from the next renewal,
one subscription per job row through the subscription action functions."""
from sqlalchemy import select

from actions.bulk import BulkAction, RowOutcome, outcome_of, register
from actions.errors import InvalidRequest
from actions.subscription_affiliate import set_subscription_affiliate
from actions.subscription_cancel import cancel_subscription
from actions.subscription_changes import existing_request
from actions.subscription_price import change_subscription_price
from models import Subscription, db


def _sub_gateway(sub_id):
    return db.session.scalar(select(Subscription.gateway).where(Subscription.id == sub_id))


def _once(function, request_key):
    """Call function(request_key) unless this row's change exists already.

    A change left pending (the worker stopped before the gateway's answer was recorded) is
    finished by calling again without the key: the subscription function then repeats the
    pending change with its own idempotency key instead of starting another.
    """
    earlier = existing_request(request_key)
    if earlier is None:
        return outcome_of(function(request_key))
    if earlier.status == "pending":
        db.session.rollback()
        return outcome_of(function(None))
    if earlier.status == "failed":
        return RowOutcome("failed", earlier.failure_message or "The gateway refused it.")
    return RowOutcome("done", f"Already {earlier.status.replace('_', ' ')} by this job.")


def cancel_row(deps, actor, sub_id, params, request_key):
    return _once(lambda key: cancel_subscription(deps, actor, sub_id, when=params["when"],
                                                 request_key=key), request_key)


def affiliate_row(deps, actor, sub_id, params, request_key):
    return _once(lambda key: set_subscription_affiliate(
        deps, actor, sub_id, params.get("affiliate_id"), request_key=key), request_key)


def price_row(deps, actor, sub_id, params, request_key):
    currency = db.session.scalar(select(Subscription.currency).where(Subscription.id == sub_id))
    if currency is not None and currency != params["currency"]:
        raise InvalidRequest(f"This subscription is billed in {currency}; the new price is in "
                             f"{params['currency']}. Nothing was changed.")
    return _once(lambda key: change_subscription_price(
        deps, actor, sub_id, params["amount_cents"], effective="next_renewal",
        request_key=key), request_key)


register(BulkAction(name="cancel_subscription", title="Cancel subscriptions",
                    permission="cancel_subscription", model=Subscription, run_row=cancel_row,
                    gateway_of=_sub_gateway, requests_per_row=2, danger=True))
register(BulkAction(name="set_subscription_affiliate", title="Change the affiliate",
                    permission="edit_affiliate", model=Subscription, run_row=affiliate_row))
register(BulkAction(name="change_subscription_price",
                    title="Change the price from the next renewal",
                    permission="change_subscription", model=Subscription, run_row=price_row,
                    gateway_of=_sub_gateway))
