"""What every gateway adapter offers (the verbs) and returns (our result types)."""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

#: refund reasons an action may pass; each adapter maps them onto its vendor's vocabulary
REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent", "other")
#: what a price or plan change does about the part of the period already paid (Stripe's words)
PRORATIONS = ("none", "create_prorations", "always_invoice")
#: the Stripe metadata field carrying our idempotency key (PayPal: custom_id) on every object
#: we create at a gateway: webhooks and the sync find our row by it, never by an amount
METADATA_KEY = "memberdesk_key"


@dataclass(frozen=True)
class GatewayResult:
    """The gateway's answer in our words; `raw` is the vendor's JSON, for the audit trail."""

    reference: str
    status: str  # "succeeded" | "pending" | "failed"
    failure_message: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SubscriptionState:
    """A subscription as the gateway holds it now, in our words.

    status: one of models.subscription.SUBSCRIPTION_STATUSES, translated by the adapter's
    STATUS table (the webhooks and the sync use the same one); paused: payment collection
    is paused (Stripe keeps the status `active`, PayPal calls it SUSPENDED); period_end: when
    the period paid for ends (Stripe: the item's current_period_end; PayPal:
    billing_info.next_billing_time); cancel_at: an end scheduled on a date (Stripe);
    ended_at: when an ended subscription's access ended, by the gateway's clock (Stripe).
    """

    reference: str
    status: str
    period_end: datetime | None = None
    cancel_at_period_end: bool = False
    cancel_at: datetime | None = None
    ended_at: datetime | None = None
    paused: bool = False
    pause_resumes_at: datetime | None = None
    price_ref: str | None = None  # Stripe price id / PayPal plan id
    item_ref: str | None = None  # Stripe: the subscription item carrying the price
    product_ref: str | None = None  # Stripe: the price's product
    amount_cents: int | None = None  # None where the gateway does not say (PayPal)
    currency: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SubscriptionResult:
    """What a subscription verb did.

    status: "succeeded" | "approval_pending" (PayPal: the payer must follow approval_url) |
    "payment_pending" (Stripe: the change waits, as a pending update, for its invoice to be
    paid; the subscription is unchanged until then) |
    "already_canceled" (the gateway had cancelled it before: nothing more was done).
    state: the subscription after the call (PayPal cancel: as read just before cancelling).
    """

    reference: str
    status: str
    state: SubscriptionState | None = None
    approval_url: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ChangePreview:
    """What a price or plan change would cost, from the gateway's own calculation.

    proration_cents: the difference for the rest of the period (+ charged, - credited), 0
    with proration "none"; due_now_cents: charged at once ("always_invoice"), negative for a
    credit to the customer's balance; next_invoice_cents: the next renewal invoice's total.
    """

    currency: str
    proration: str
    proration_cents: int
    due_now_cents: int
    next_invoice_cents: int | None = None
    proration_date: int | None = None  # pass it to the change to get exactly these figures
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Verb:
    """How the adapters' messages name one operation."""

    noun: str  # "the refund": "we cannot tell whether the refund went through"
    nothing: str  # what stayed as it was after a refusal: "nothing was refunded"
    twice: str  # why a retry is safe: "it will not refund twice"
    do: str  # "refund": "Stripe does not let this API key refund"
    reads: bool = False  # changes nothing: a failure is never "unknown outcome"


VERBS = {
    "refund": Verb("the refund", "nothing was refunded", "it will not refund twice", "refund"),
    "find_refund": Verb("the look-up of the refund", "nothing was refunded",
                        "it changes nothing", "read refunds", reads=True),
    "get_subscription": Verb("the subscription look-up", "nothing was changed",
                             "it changes nothing", "read subscriptions", reads=True),
    "preview_change": Verb("the preview of the change", "nothing was changed",
                           "it changes nothing", "preview invoices", reads=True),
    "change_price": Verb("the price change", "the price was not changed",
                         "it will not change the price twice", "change subscriptions"),
    "change_plan": Verb("the plan change", "the plan was not changed",
                        "it will not change the plan twice", "change subscriptions"),
    "cancel": Verb("the cancellation", "nothing was cancelled", "it will not cancel twice",
                   "cancel subscriptions"),
    "undo_cancel": Verb("the undoing of the cancellation", "the cancellation still stands",
                        "it will not act twice", "change subscriptions"),
    "pause": Verb("the pause", "nothing was paused", "it will not pause twice",
                  "pause subscriptions"),
    "resume": Verb("the resumption", "nothing was resumed", "it will not resume twice",
                   "resume subscriptions"),
}


class Gateway(Protocol):
    """The verbs of an adapter: each returns one of our result types or raises a GatewayError.

    Every verb that changes something takes an `idempotency_key`: repeating a call with the
    same key (after a GatewayUnavailable) never repeats its effect at the vendor.
    """

    name: str

    def refund(self, payment_ref: str, amount_cents: int | None, currency: str, *,
               reason: str, note: str | None, idempotency_key: str) -> GatewayResult:
        """Refund amount_cents (None: all that is left) of a payment, in its currency."""

    def refund_status(self, refund_ref: str) -> GatewayResult:
        """Where a refund made earlier (GatewayResult.reference) stands now; changes nothing."""

    def find_refund(self, payment_ref: str, idempotency_key: str, since: datetime,
                    until: datetime | None = None) -> GatewayResult | None:
        """The refund of this payment, made between `since` and `until` (now), that carries
        our key (the answer to a call whose answer was lost), or None when the gateway has
        none; changes nothing."""

    def get_subscription(self, ref: str) -> SubscriptionState:
        """The subscription as the gateway holds it now; changes nothing."""

    def preview_change(self, ref: str, *, amount_cents: int | None = None,
                       currency: str | None = None, interval: str | None = None,
                       interval_count: int | None = None, plan_ref: str | None = None,
                       proration: str) -> ChangePreview:
        """What a new price (amount_cents...) or plan (plan_ref) would charge or credit now."""

    def change_price(self, ref: str, amount_cents: int, currency: str, interval: str,
                     interval_count: int, *, proration: str, idempotency_key: str,
                     proration_date: int | None = None) -> SubscriptionResult:
        """Charge amount_cents per cycle from now on (see PRORATIONS for the current period)."""

    def change_plan(self, ref: str, plan_ref: str, *, proration: str, idempotency_key: str,
                    proration_date: int | None = None) -> SubscriptionResult:
        """Move the subscription to another plan (Stripe price / PayPal plan)."""

    def cancel(self, ref: str, *, at_period_end: bool,
               idempotency_key: str) -> SubscriptionResult:
        """Cancel now or at the end of the period paid for (PayPal: always now)."""

    def undo_cancel(self, ref: str, *, idempotency_key: str) -> SubscriptionResult:
        """Withdraw a cancellation scheduled for the period end (Stripe only)."""

    def pause(self, ref: str, resumes_at: datetime | None, *,
              idempotency_key: str) -> SubscriptionResult:
        """Stop collecting payments, until resumes_at if given (PayPal: until resumed)."""

    def resume(self, ref: str, *, idempotency_key: str) -> SubscriptionResult:
        """Collect payments again."""
