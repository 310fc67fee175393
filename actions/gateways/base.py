"""What every gateway adapter offers (the verbs) and returns (GatewayResult)."""
from dataclasses import dataclass, field
from typing import Protocol

@dataclass(frozen=True)
class GatewayResult:
    """The gateway's answer in our words; `raw` is the vendor's JSON, for the audit trail."""

    reference: str
    status: str  # "succeeded" | "pending" | "failed"
    failure_message: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


class Gateway(Protocol):
    """The verbs of an adapter: each returns a GatewayResult or raises a GatewayError.

    Every verb that changes something takes an `idempotency_key`: repeating a call with the same key (after a
    GatewayUnavailable) never repeats its effect at the vendor.
    """

    name: str

    def refund(self, payment_ref: str, amount_cents: int | None, currency: str, *,
               reason: str, note: str | None, idempotency_key: str) -> GatewayResult:
        """Refund amount_cents (None: all that is left) of a payment, in its currency."""

    def refund_status(self, refund_ref: str) -> GatewayResult:
        """Where a refund made earlier (GatewayResult.reference) stands now; changes nothing."""

    # The subscription verbs (change_price, change_plan, cancel) join here with their issue.
