"""A gateway's objects in our words: what the apply functions write. Plain values only."""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SystemActor:
    """Who the audit names for changes that came from a gateway: "webhook" or "sync"."""

    email: str
    id: None = None
    role: str = "system"
    #: the ids of the customers whose records the audit entries named (actions.audit adds
    #: them): a webhook event's own actor has a set, which links the event to its customer
    customers: set | None = field(default=None, compare=False, repr=False)

    def can(self, permission):
        return True


WEBHOOK = SystemActor("webhook")
SYNC = SystemActor("sync")


@dataclass(frozen=True)
class Settlement:
    """What the business received, as the gateway converted it; `exact` False = our estimate."""

    cents: int
    currency: str
    fee_cents: int | None = None
    exact: bool = True


@dataclass(frozen=True)
class CustomerRecord:
    gateway: str
    ref: str | None  # cus_… / PayPal payer id
    email: str | None = None
    name: str | None = None
    country: str | None = None
    updated_at: datetime | None = None  # None: details from a payment, not the customer itself


@dataclass(frozen=True)
class PaymentRecord:
    gateway: str
    refs: tuple  # our key first (pi_… or ch_…, capture id), then other ids it is known by
    customer: CustomerRecord
    amount_cents: int
    currency: str
    status: str  # succeeded / pending / failed
    created_at: datetime
    description: str
    settlement: Settlement | None = None
    subscription_ref: str | None = None
    tax_cents: int | None = None


@dataclass(frozen=True)
class RefundRecord:
    gateway: str
    ref: str
    payment_refs: tuple
    amount_cents: int
    currency: str
    status: str  # succeeded / pending / failed
    created_at: datetime
    settlement: Settlement | None = None
    reason: str = "other"
    failure_message: str | None = None
    our_key: str | None = None  # the key a panel refund carries there (Refund.gateway_key)


@dataclass(frozen=True)
class DisputeRecord:
    gateway: str
    ref: str
    payment_refs: tuple
    amount_cents: int
    currency: str
    status: str  # open / won / lost
    created_at: datetime
    reason: str | None = None
    settlement: Settlement | None = None


@dataclass(frozen=True)
class SubscriptionRecord:
    gateway: str
    ref: str
    customer: CustomerRecord
    status: str  # active / trialing / past_due / canceled
    name: str
    price_cents: int
    currency: str
    interval: str
    interval_count: int
    start_date: datetime
    updated_at: datetime
    plan_ref: str | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    paused: bool = False  # collection paused (Stripe pause_collection, PayPal SUSPENDED)
    pause_resumes_at: datetime | None = None
    cancel_at: datetime | None = None  # an end scheduled on a date (Stripe cancel_at)
    # canceled: when access ended by the gateway's word (Stripe ended_at); None (PayPal):
    # access lasts to the end of the period paid for (apply_accounts._access_until)
    access_until: datetime | None = None
    # PayPal canceled: when its last payment was made (current_period_end is then that plus
    # a cycle); a payment at or after the period end we knew paid for a period we never saw
    last_paid_at: datetime | None = None
    # PayPal: the price is the plan's list price (the subscription does not say its own):
    # it never replaces a price set on the subscription (plan_overridden) or on the same plan
    price_from_plan: bool = False
    plan_overridden: bool = False
