"""The final checks can fail: a drift planted after a history is reported, also by the
cheaper final check (a gateway's sync and second dry run only where its first dry run found
work), and drift that the nightly sync repairs is not."""
import pytest
from sqlalchemy import select

from models import Customer, Transaction, db
from tests import factories
from tests.simulation import invariants
from tests.simulation.machine import History

pytestmark = [pytest.mark.slow]


def _history(world):
    """A history that has just begun (the shop, no step): what final() checks."""
    class Run(History):
        pass
    Run.world, Run.min_steps, Run.max_steps = world, 20, 20
    Run.counts = {"histories": 0, "steps": 0}
    return Run()


def test_a_quiet_history_passes_every_check(world):
    assert invariants.final(world, _history(world)) == []


@pytest.mark.parametrize("gateway", ["stripe", "paypal"])
def test_a_payment_the_gateway_never_had_is_reported_by_that_gateways_dry_run(world,
                                                                             gateway):
    """Planted: a payment in the panel that its gateway does not have (no sync removes it).
    On PayPal only the dry run can see it: refunded totals agree (nothing refunded)."""
    state = _history(world)
    with world.context():
        column = Customer.stripe_customer_id if gateway == "stripe" else \
            Customer.paypal_payer_id
        customer = db.session.scalars(select(Customer).where(column.is_not(None))
                                      .order_by(Customer.id)).first()
        planted = factories.payment(customer, 2500, gateway=gateway, invoice_number=None,
                                    created_at=world.now()).gateway_ref
        db.session.commit()

    found = invariants.final(world, state)

    assert any(f"sync {gateway} --dry-run: missing at the gateway payment {planted}" in f
               for f in found), found
    other = "paypal" if gateway == "stripe" else "stripe"
    assert not any(f.startswith(f"sync {other} --dry-run") for f in found), found


def test_a_lifetime_value_changed_behind_the_ledgers_back_is_reported(world):
    state = _history(world)
    with world.context():
        customer = db.session.scalars(select(Customer).order_by(Customer.id)).first()
        customer.lifetime_value_cents += 100
        db.session.commit()

    found = invariants.final(world, state)

    assert any(f.startswith("recompute-ltv finds drift") for f in found), found


def test_a_stripe_refund_whose_webhook_was_lost_is_repaired_by_the_final_sync(world):
    """Drift the nightly sync repairs is no violation: the dry run finds it, the sync of
    that gateway applies it, its second dry run finds nothing."""
    state = _history(world)
    sb = world.sb
    with world.context():
        ref = db.session.scalars(select(Transaction.gateway_ref).where(
            Transaction.gateway == "stripe").order_by(Transaction.id)).first()
    with sb.lock:
        charge = sb.stripe.charges.get(ref) or sb.stripe.charges[
            sb.stripe.payment_intents[ref]["latest_charge"]]
        sb.stripe._create_refund({"charge": charge["id"], "amount": "700"})
    world.collect()
    world.mailbox.clear()  # its webhooks never arrive
    assert invariants.dry_runs(world, ("stripe",)) != []

    assert invariants.final(world, state) == []
    with world.context():
        assert db.session.scalars(select(Transaction.refunded_cents).where(
            Transaction.gateway_ref == ref)).one() == 700
