"""Edit Subscription (pencil): a new price per cycle, from the next renewal or (Stripe) now."""
from datetime import timedelta

from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from actions.base import RowAction
from actions.errors import InvalidRequest
from actions.gateways.limits import check_max
from actions.form_checks import PositiveAmount
from actions.subscription_changes import (Change, act, answered_amount, gateway_label,
                                          offered, payment_pending, proration_time,
                                          require_live, require_no_approval_pending, summary)
from actions.subscription_forms import KeyedForm, new_form, price_per_cycle, proration_date
from models.dates import add_cycle
from models.money import format_money, plain_amount

EFFECTIVE = {"next_renewal": "From the next renewal", "now": "Now, with proration"}
#: PayPal's documented rule for price changes of existing subscribers
PAYPAL_NOTICE = ("PayPal emails the customer about the new price and gives 10 days' notice: "
                 "a payment due within 10 days of the change is still charged the old price, "
                 "the new price applies from the billing cycle after that.")


def change_subscription_price(deps, actor, sub_id, amount_cents, *, effective="next_renewal",
                              request_key=None, proration_date=None):
    """Charge amount_cents (the subscription's currency) per cycle from now on."""
    def prepare(sub):
        require_live(sub, "changing its price")
        require_no_approval_pending(sub, deps)
        if effective not in EFFECTIVE:
            raise InvalidRequest("Choose when the new price applies; nothing was changed.")
        if effective == "now" and sub.gateway != "stripe":
            raise InvalidRequest(f"{gateway_label(sub)} applies a new price from a billing "
                                 "cycle on, not now; choose “From the next renewal”. "
                                 "Nothing was changed.")
        if not isinstance(amount_cents, int) or amount_cents <= 0:
            raise InvalidRequest("Enter a price greater than zero; nothing was changed.")
        check_max(sub.gateway, amount_cents, sub.currency, deps.money)
        if amount_cents == sub.price_cents:
            since = f" from {deps.day(sub.price_from)}" if sub.price_scheduled else ""
            raise InvalidRequest(f"The subscription already costs "
                                 f"{deps.money(amount_cents, sub.currency)}{since}; nothing "
                                 "was changed.")
        when = proration_time(deps, proration_date)
        return {"ask": {"amount_cents": amount_cents, "effective": effective},
                "currency": sub.currency, "before_cents": sub.price_cents,
                # what a cycle costs today, as of the request (a webhook of the change
                # itself may reach us before its answer)
                "charged_cents": sub.charged_cents, "proration_date": when}

    def call(gateway, sub, change):
        proration = "always_invoice" if change.params["ask"]["effective"] == "now" else "none"
        return gateway.change_price(
            sub.gateway_id, change.params["ask"]["amount_cents"], sub.currency, sub.interval,
            sub.interval_count, proration=proration, idempotency_key=change.idempotency_key,
            proration_date=change.params["proration_date"] if proration != "none" else None)

    def applied(sub, change, state):
        return state.amount_cents == change.params["ask"]["amount_cents"]

    def apply(sub, change, result, now):
        amount = deps.money(change.params["ask"]["amount_cents"], sub.currency)
        if result.status == "approval_pending":
            change.status, change.approval_url = "awaiting_approval", result.approval_url
            sub.approval_url = result.approval_url
            return (f"{gateway_label(sub)} needs the customer's approval of {amount}: send "
                    f"them this link: {result.approval_url}")
        if result.status == "payment_pending":
            return payment_pending(deps, sub, change, result)
        charged = change.params.get("charged_cents", sub.charged_cents)
        sub.price_cents = answered_amount(result, sub, change.params["ask"]["amount_cents"])
        if change.params["ask"]["effective"] == "now":
            schedule(sub, None, None)
            return (f"The subscription now costs {amount} per cycle; Stripe charged or "
                    "credited the difference for the rest of this period.")
        start = takes_effect(sub, now)
        schedule(sub, charged, start)
        when = deps.day(start or sub.next_payment_date)
        extra = " (PayPal's 10-day notice rule applies)" if sub.gateway == "paypal" else ""
        return f"The subscription costs {amount} from the renewal on {when}{extra}."

    return act(deps, actor, sub_id, permission="change_subscription", request_key=request_key,
               prepare=prepare, spec=Change("price", call, apply, applied))


#: PayPal: a payment due within this long of a price change is still charged the old price
PAYPAL_NOTICE_DAYS = timedelta(days=10)


def takes_effect(sub, now):
    """When a price changed "from the next renewal" is first charged: the next renewal, or
    on PayPal, when that is within 10 days, the one after (PAYPAL_NOTICE); None when no
    renewal is due."""
    renewal = sub.next_payment_date or sub.current_period_end
    if renewal is None:
        return None
    if sub.gateway == "paypal" and renewal - now < PAYPAL_NOTICE_DAYS:
        renewal = add_cycle(renewal, sub.interval, sub.interval_count)
    return renewal


def schedule(sub, charged_cents, start):
    """Record that the customer pays charged_cents until `start`, price_cents from then on;
    nothing to wait for (no date, or the same price) clears it."""
    if start is None or charged_cents is None or charged_cents == sub.price_cents:
        sub.price_before_cents, sub.price_from = None, None
    else:
        sub.price_before_cents, sub.price_from = charged_cents, start


class PriceForm(KeyedForm):
    amount = StringField("New amount", validators=[
        DataRequired(), PositiveAmount("Enter a price greater than zero.")])
    effective = SelectField("From when")
    proration_date = HiddenField()

    def __init__(self, *args, currency, locale, gateway, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.locale, self.gateway = currency, locale, gateway
        self.amount.label.text = f"New amount ({currency})"
        self.effective.choices = [SelectChoice(k, v) for k, v in EFFECTIVE.items()
                                  if k == "next_renewal" or gateway == "stripe"]


    def validate_amount(self, field):
        """The gateway's maximum, said beside the field (the action checks it again)."""
        cents = getattr(self, "amount_cents", None)
        if cents is not None:
            try:
                check_max(self.gateway, cents, self.currency,
                          lambda c, cur: format_money(c, cur, self.locale))
            except InvalidRequest as exc:
                raise ValidationError(exc.message.split(";")[0] + ".") from None


def _form(sub, deps):
    return new_form(PriceForm, currency=sub.currency, locale=deps.locale, gateway=sub.gateway,
                    amount=plain_amount(sub.price_cents, sub.currency),
                    effective="next_renewal")


def _perform(sub, form, actor, deps):
    return change_subscription_price(
        deps, actor, sub.id, form.amount_cents, effective=form.effective.data,
        request_key=form.request_key.data, proration_date=proration_date(form))


def _context(sub, deps):
    renewal = deps.day(sub.next_payment_date)
    lines = [f"“From the next renewal”: the customer pays the new amount from {renewal} on; "
             "nothing is charged or credited now."]
    if sub.gateway == "stripe":
        lines.append("“Now, with proration”: the new price applies at once and Stripe "
                     "invoices the difference for the rest of this period now (a credit to "
                     "the customer's Stripe balance if the price goes down). The exact amount "
                     "is shown below from Stripe's own preview.")
    else:
        lines.append(PAYPAL_NOTICE)
    current = price_per_cycle(sub, deps)
    return {"summary": summary(sub, ("Current price", current), ("Next renewal", renewal)),
            "consequences": lines, "preview_kind": "price"}


ACTION = RowAction(
    name="subscription_price", title="Edit Subscription", icon="fa-pencil",
    permission="change_subscription", template="actions/subscription_change.html",
    form=_form, perform=_perform, context=_context,
    **offered("price"))
