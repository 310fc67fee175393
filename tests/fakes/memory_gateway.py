"""An in-process gateway that implements the adapter protocol (actions/gateways/base.py) the
way the real gateways behave where it matters: idempotency keys, over-refund refusal, pending
refunds, and failures on request. No server: for tests of action functions."""
import itertools
from dataclasses import dataclass, field

from actions.errors import GatewayDeclined, GatewayUnavailable
from actions.gateways.base import GatewayResult


@dataclass
class Payment:
    amount_cents: int
    currency: str
    refunded_cents: int = 0


@dataclass
class MemoryGateway:
    """`payments` maps payment refs to Payment; `fail_next(kind)` makes the next call fail:
    "timeout" / "reset_after_success" / "5xx" / "429" (outcome unknown) or "decline"."""

    name: str = "stripe"
    payments: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)  # refund ref -> GatewayResult
    by_key: dict = field(default_factory=dict)  # idempotency key -> (request, result)
    calls: list = field(default_factory=list)
    refund_keys: dict = field(default_factory=dict)  # refund ref -> (payment ref, our key)
    refund_outcome: str = "succeeded"
    _failures: list = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_payment(self, ref, amount_cents, currency="USD"):
        self.payments[ref] = Payment(amount_cents, currency)

    def fail_next(self, kind):
        self._failures.append(kind)

    def forget_keys(self):
        """Let the idempotency window pass (Stripe keeps a key 24 hours): the same key then
        makes a new refund, as at Stripe."""
        self.by_key.clear()

    def refunded_total(self, ref):
        """What the customer got back at the gateway for this payment."""
        return self.payments[ref].refunded_cents

    def refund(self, payment_ref, amount_cents, currency, *, reason, note, idempotency_key):
        request = (payment_ref, amount_cents, currency)
        self.calls.append(("refund", request, idempotency_key))
        failure = self._failures.pop(0) if self._failures else None
        if failure in ("timeout", "5xx", "429"):
            raise GatewayUnavailable(f"{self.name} did not answer ({failure}).", gateway=self.name)
        if failure == "decline":
            raise GatewayDeclined(f"{self.name} declined the refund.", gateway=self.name,
                                  code="declined")
        if idempotency_key in self.by_key:
            seen, result = self.by_key[idempotency_key]
            if seen != request:
                raise GatewayDeclined("Keys for idempotent requests can only be used with the "
                                      "same parameters.", gateway=self.name, code="idempotency")
            return result
        result = self._make_refund(payment_ref, amount_cents, currency)
        self.by_key[idempotency_key] = (request, result)
        self.refund_keys[result.reference] = (payment_ref, idempotency_key)  # our id on it
        if failure == "reset_after_success":  # the refund happened; the answer was lost
            raise GatewayUnavailable(f"The connection to {self.name} was reset.",
                                     gateway=self.name)
        return result

    def _make_refund(self, payment_ref, amount_cents, currency):
        payment = self.payments[payment_ref]
        left = payment.amount_cents - payment.refunded_cents
        amount = left if amount_cents is None else amount_cents
        if currency != payment.currency or amount > left:
            raise GatewayDeclined("The refund is larger than what is left of the payment.",
                                  gateway=self.name, code="amount_too_large")
        if self.refund_outcome != "failed":
            payment.refunded_cents += amount
        result = GatewayResult(reference=f"re_{next(self._ids)}", status=self.refund_outcome)
        self.refunds[result.reference] = result
        return result

    def find_refund(self, payment_ref, idempotency_key, since, until=None):
        self.calls.append(("find_refund", payment_ref, idempotency_key))
        for ref, (payment, key) in self.refund_keys.items():
            if (payment, key) == (payment_ref, idempotency_key):
                return self.refunds[ref]
        return None

    def refund_status(self, refund_ref):
        self.calls.append(("refund_status", refund_ref, None))
        return self.refunds[refund_ref]
