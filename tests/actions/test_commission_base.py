"""One commission base (issue 17, finding 10): what the sale kept, without its tax — for the
commission Edit Sale suggests and for the one an imported renewal gets."""
from datetime import datetime, timezone

from actions.affiliate import _context as edit_sale_context
from actions.commission import commission_base
from actions.sync.apply_money import apply_payment
from actions.sync.records import WEBHOOK, CustomerRecord, PaymentRecord, Settlement
from models import Transaction, db
from tests import factories
from tests.actions.support import fresh


def test_edit_sale_and_an_imported_renewal_give_the_same_commission(deps):
    partner = factories.affiliate(rate_bp=1000)
    customer = factories.customer(stripe_customer_id="cus_base")
    plan = factories.plan(stripe_price_id="price_base")
    sub = factories.subscription(customer, plan, affiliate_id=partner.id, gateway_id="sub_base")
    db.session.commit()
    # a $120.00 renewal, $20.00 of it tax
    record = PaymentRecord("stripe", ("pi_renewal",), CustomerRecord("stripe", "cus_base"),
                           12000, "USD", "succeeded", datetime(2026, 1, 5, tzinfo=timezone.utc),
                           "Renewal", Settlement(12000, "USD", 0), "sub_base", tax_cents=2000)
    tx, _ = apply_payment(deps, WEBHOOK, record)
    db.session.commit()
    tx = fresh(Transaction, tx.id)

    assert tx.subscription_id == sub.id and tx.commission_cents == 1000  # 10 % of $100.00
    suggested = edit_sale_context(tx, deps)["default_commissions"][str(partner.id)]
    assert suggested == "10.00"


def test_the_base_is_what_was_kept_without_its_share_of_tax():
    assert commission_base(12000, 2000) == 10000
    assert commission_base(12000, 2000, refunded_cents=6000) == 5000
    assert commission_base(12000, 2000, refunded_cents=3000, disputed_cents=9000) == 0
    assert commission_base(0, 0) == 0
