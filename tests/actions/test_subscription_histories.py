"""Randomized histories of subscription actions with gateway faults (hypothesis state machine):
whatever an admin asks in whatever order, and whichever answers get lost, the gateway never
acts twice for one change of ours, every change it made carries the key of one of our rows,
and once nothing is pending our record says what the gateway holds."""
from datetime import timedelta
from types import MappingProxyType

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from actions.deps import Deps
from actions.errors import GatewayError, InvalidRequest
from actions.subscription_cancel import cancel_subscription, undo_cancel
from actions.subscription_pause import pause_subscription, resume_subscription
from actions.subscription_plan import change_subscription_plan
from actions.subscription_price import change_subscription_price
from models import Subscription, SubscriptionChange, db
from models.access import has_access
from tests import factories
from tests.actions.gateway import SubscriptionGateway
from tests.actions.support import start_over, subscribed

FAULTS = ["timeout", "reset_after_success", "decline"]


def histories(gateway_name, deps_template, admin):
    class History(RuleBasedStateMachine):
        """One subscription on `gateway_name`, one admin, a history of requests."""

        def __init__(self):
            super().__init__()
            self.gateway = SubscriptionGateway(gateway_name)
            self.deps = Deps(store_currency="USD", gateways=lambda name: self.gateway,
                             clock=deps_template.clock, locale="en_US",
                             settings=MappingProxyType({}))
            base = factories.plan(stripe_price_id=f"price_a{id(self)}",
                                  paypal_plan_id=f"P-A{id(self)}", price_cents=4900)
            self.plans = [base]
            for cents in (2900, 9900):
                self.plans.append(factories.plan(
                    name=f"Plan {cents}", price_cents=cents,
                    stripe_price_id=f"price_{cents}_{id(self)}",
                    paypal_plan_id=f"P-{cents}-{id(self)}"))
            for plan in self.plans:
                ref = plan.stripe_price_id if gateway_name == "stripe" else plan.paypal_plan_id
                self.gateway.plan_prices[ref] = plan.price_cents
            self.sub_id = subscribed({gateway_name: self.gateway}, gateway=gateway_name,
                                     plan=base).id
            self.ref = db.session.get(Subscription, self.sub_id).gateway_id

        last = None

        def teardown(self):
            start_over()  # the next history starts from no subscription, plan or change

        def _do(self, call):
            self.last = call
            try:
                call()
            except InvalidRequest:
                pass  # refused: the invariants check nothing went astray
            except GatewayError:
                pass  # the gateway failed or refused: recorded as failed or left pending

        @rule(cents=st.sampled_from([2900, 4900, 5900]),
              effective=st.sampled_from(["next_renewal", "now"]))
        def price(self, cents, effective):
            self._do(lambda: change_subscription_price(self.deps, admin, self.sub_id, cents,
                                                       effective=effective))

        @rule(index=st.integers(0, 2))
        def plan(self, index):
            self._do(lambda: change_subscription_plan(self.deps, admin, self.sub_id,
                                                      self.plans[index].id))

        @rule(when=st.sampled_from(["period_end", "now"]))
        def cancel(self, when):
            self._do(lambda: cancel_subscription(self.deps, admin, self.sub_id, when=when))

        @rule()
        def undo(self):
            self._do(lambda: undo_cancel(self.deps, admin, self.sub_id))

        @rule()
        def pause(self):
            self._do(lambda: pause_subscription(self.deps, admin, self.sub_id))

        @rule()
        def resume(self):
            self._do(lambda: resume_subscription(self.deps, admin, self.sub_id))

        @rule(kind=st.sampled_from(FAULTS))
        def fault(self, kind):
            """The next change sent to the gateway fails this way."""
            self.gateway.fail_next_change(kind)

        @rule()
        def again(self):
            """The admin sends the same request again (after an error, or a double click)."""
            if self.last is not None:
                self._do(self.last)

        def _changes(self):
            db.session.expire_all()
            return db.session.query(SubscriptionChange).filter_by(
                subscription_id=self.sub_id).all()

        @invariant()
        def after_each_step(self):
            """Both checks on one reading of our change rows (the step has ended: nothing
            changes them between the two)."""
            changes = self._changes()
            self.the_gateway_never_acts_twice_and_only_for_our_rows(changes)
            self.with_nothing_pending_our_record_is_the_gateways(changes)

        def the_gateway_never_acts_twice_and_only_for_our_rows(self, changes):
            keys = [key for _verb, _ref, key in self.gateway.effects]
            assert len(keys) == len(set(keys)), self.gateway.effects
            ours = {c.idempotency_key for c in changes}
            assert set(keys) <= ours
            done = {c.idempotency_key for c in changes if c.status == "succeeded"}
            assert done <= set(keys)  # each change we record as made, the gateway made
            failed = {c.idempotency_key for c in changes if c.status == "failed"}
            assert not failed & set(keys)  # and none we record as failed

        def with_nothing_pending_our_record_is_the_gateways(self, changes):
            if any(c.status == "pending" for c in changes):
                return
            sub = db.session.get(Subscription, self.sub_id)
            held = self.gateway.subscriptions[self.ref]
            assert (sub.status == "canceled") == (held.status == "canceled")
            if sub.status == "canceled":
                return
            assert sub.price_cents == held.amount_cents
            assert sub.paused == held.paused
            assert sub.cancel_at_period_end == held.cancel_at_period_end
            now, end = self.deps.clock(), sub.current_period_end
            assert has_access(sub, now)
            renews = not (held.cancel_at_period_end or held.paused)
            assert has_access(sub, end + timedelta(days=1)) == renews

    return History


@pytest.mark.parametrize("gateway", ["stripe", "paypal"])
def test_random_histories_keep_the_gateway_and_our_record_in_step(deps, actors, gateway):
    run_state_machine_as_test(histories(gateway, deps, actors["finance"]),
                              settings=settings(max_examples=12, stateful_step_count=10,
                                                deadline=None))
