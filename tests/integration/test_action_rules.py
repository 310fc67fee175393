"""Action functions own their rules: the role and every precondition a hidden button stands
for are refused by the function itself, whoever calls it, and nothing changes."""
import pytest
from sqlalchemy import func, select

from actions.affiliate import set_sale_affiliate
from actions.customer_details import update_customer
from actions.errors import GatewayDeclined, GatewayUnavailable, InvalidRequest, NotAllowed
from actions.invoice import resend_invoice
from actions.refund import check_refund, refund_transaction
from admin_app.composition import deps_from_app
from models import AuditEvent, Customer, Refund, SubscriptionChange, Transaction, db
from tests import factories
from tests.conftest import csrf_token, login, make_admin
from tests.fakes.memory_gateway import MemoryGateway

LIST = "/admin/transaction/"


@pytest.fixture
def gateway():
    return MemoryGateway()


@pytest.fixture
def deps(app, gateway):
    return deps_from_app(gateways=lambda name: gateway)


@pytest.fixture
def sale(app, gateway):
    """A $80.00 Stripe payment with a $8.00 commission; the customer's LTV is $80.00."""
    customer = factories.customer()
    partner = factories.affiliate(1000)
    tx = factories.payment(customer, 8000, affiliate_id=partner.id, commission_cents=800)
    db.session.commit()
    gateway.add_payment(tx.gateway_ref, 8000)
    return tx.id


def _state(tx_id):
    db.session.expire_all()
    tx = db.session.get(Transaction, tx_id)
    return (tx.refunded_cents, tx.commission_cents, tx.affiliate_id,
            tx.customer.lifetime_value_cents, db.session.scalar(select(func.count(Refund.id))))


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_refund_function_refuses_roles_without_refund(deps, gateway, sale, role):
    before = _state(sale)
    with pytest.raises(NotAllowed, match=f"role \\({role}\\)"):
        refund_transaction(deps, make_admin(role), sale, 1000, "requested_by_customer")
    assert _state(sale) == before and gateway.calls == []


def test_refund_function_refuses_a_failed_payment(deps, gateway, app):
    tx = factories.payment(factories.customer(), 5000, status="failed")
    db.session.commit()
    with pytest.raises(InvalidRequest, match="this one is failed"):
        refund_transaction(deps, make_admin("finance"), tx.id, None, "duplicate")
    assert gateway.calls == [] and db.session.scalar(select(func.count(Refund.id))) == 0


def test_refund_of_all_that_is_left_counts_money_at_the_gateway(deps, gateway, sale):
    finance = make_admin("finance")
    refund_transaction(deps, finance, sale, 3000, "requested_by_customer", request_key="a")
    result = refund_transaction(deps, finance, sale, None, "requested_by_customer",
                                request_key="b")
    assert result.message == "Refunded $50.00 through Stripe."
    tx = db.session.get(Transaction, sale)
    assert gateway.refunded_total(tx.gateway_ref) == 8000
    assert _state(sale)[:4] == (8000, 0, tx.affiliate_id, 0)
    with pytest.raises(InvalidRequest, match="Nothing is left to refund"):
        refund_transaction(deps, finance, sale, None, "requested_by_customer", request_key="c")


def test_the_same_request_key_refunds_once(deps, gateway, sale):
    finance = make_admin("finance")
    first = refund_transaction(deps, finance, sale, 1000, "duplicate", request_key="k1")
    again = refund_transaction(deps, finance, sale, 1000, "duplicate", request_key="k1")
    assert first.category == "success" and "already submitted" in again.message
    assert gateway.refunded_total(db.session.get(Transaction, sale).gateway_ref) == 1000
    assert len(gateway.calls) == 1


@pytest.mark.parametrize("fault", ["timeout", "reset_after_success", "5xx", "429"])
def test_unknown_outcome_then_check_refund_refunds_exactly_once(deps, gateway, sale, fault):
    finance = make_admin("finance")
    ref = db.session.get(Transaction, sale).gateway_ref
    gateway.fail_next(fault)
    with pytest.raises(GatewayUnavailable) as failure:
        refund_transaction(deps, finance, sale, 2000, "requested_by_customer", request_key="x")
    assert "stays pending" in failure.value.message
    assert _state(sale)[0] == 0  # nothing applied locally while the outcome is unknown
    refund = db.session.scalar(select(Refund))
    assert refund.status == "pending"

    result = check_refund(deps, finance, refund.id)

    assert result.message == "Refunded $20.00 through Stripe."
    assert gateway.refunded_total(ref) == 2000  # once, whatever happened to the first answer
    assert _state(sale)[:2] == (2000, 600) and _state(sale)[3] == 6000


def test_declined_refund_changes_nothing_but_the_refund_row(deps, gateway, sale):
    gateway.fail_next("decline")
    before = _state(sale)
    with pytest.raises(GatewayDeclined, match="declined"):
        refund_transaction(deps, make_admin("owner"), sale, 2000, "other", request_key="d")
    assert _state(sale)[:4] == before[:4]
    assert db.session.scalar(select(Refund.status)) == "failed"
    assert gateway.refunded_total(db.session.get(Transaction, sale).gateway_ref) == 0


def test_check_refund_refuses_roles_without_refund(deps, gateway, sale):
    gateway.fail_next("timeout")
    with pytest.raises(GatewayUnavailable):
        refund_transaction(deps, make_admin("finance"), sale, 1000, "other", request_key="t")
    refund_id = db.session.scalar(select(Refund.id))
    with pytest.raises(NotAllowed):
        check_refund(deps, make_admin("support"), refund_id)
    assert db.session.get(Refund, refund_id).status == "pending" and len(gateway.calls) == 1


def test_sale_affiliate_of_a_failed_payment_is_refused(deps, app):
    tx = factories.payment(factories.customer(), 5000, status="failed")
    partner = factories.affiliate(1000)
    db.session.commit()
    with pytest.raises(InvalidRequest, match="this one is failed"):
        set_sale_affiliate(deps, make_admin("finance"), tx.id, partner.id, 4000)
    db.session.expire_all()
    assert db.session.get(Transaction, tx.id).affiliate_id is None


def test_sale_affiliate_refuses_viewers(deps, sale):
    before = _state(sale)
    with pytest.raises(NotAllowed):
        set_sale_affiliate(deps, make_admin("viewer"), sale, None, 0)
    assert _state(sale) == before


def test_invoice_resend_refuses_viewers_and_payments_without_invoice(deps, app):
    tx = factories.payment(factories.customer(), 5000)
    failed = factories.payment(factories.customer(), 5000, status="failed")
    db.session.commit()
    with pytest.raises(NotAllowed):
        resend_invoice(deps, make_admin("viewer"), tx.id)
    with pytest.raises(InvalidRequest, match="no invoice"):
        resend_invoice(deps, make_admin("support"), failed.id)


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_customer_edit_refuses_roles_without_edit_customer(deps, app, role):
    customer = factories.customer(name="Ada")
    db.session.commit()
    details = {"name": "Eve", "email": customer.email}
    with pytest.raises(NotAllowed):
        update_customer(deps, make_admin(role), customer.id, details)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Ada"


# The web layer: POSTing what the UI hides is refused with a message and audited.

def _post(client, action, tx_id, data):
    data = {**data, "csrf_token": csrf_token(client, LIST)}
    return client.post(f"{LIST}action/{action}/{tx_id}/?url={LIST}", data=data,
                       follow_redirects=True).get_data(as_text=True)


def test_posting_edit_sale_for_a_failed_payment_is_refused(client):
    """The review's bug: the Affiliate button is hidden on a failed payment, yet a POST of
    the Edit Sale form saved affiliate=1, commission=4000."""
    login(client, "finance")
    tx = factories.payment(factories.customer(), 5000, status="failed")
    partner = factories.affiliate(1000)
    db.session.commit()

    page = _post(client, "affiliate", tx.id, {"affiliate": str(partner.id), "commission": "40.00"})

    assert "Only a successful payment has an affiliate commission" in page
    db.session.expire_all()
    saved = db.session.get(Transaction, tx.id)
    assert (saved.affiliate_id, saved.commission_cents) == (None, 0)
    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "affiliate"))
    assert denied.outcome == "denied"


@pytest.mark.parametrize("action, data, message", [
    ("refund", {"amount": "10.00", "reason": "duplicate", "request_key": "k"},
     "Nothing is left to refund on this payment"),
    ("check_refund", {}, "No refund of this payment is pending."),
    ("invoice", {}, "This payment has no invoice (it is failed)"),
])
def test_posting_a_hidden_transaction_action_is_refused(client, action, data, message):
    login(client, "owner")
    tx = factories.payment(factories.customer(), 5000, status="failed")
    db.session.commit()
    assert message in _post(client, action, tx.id, data)
    assert db.session.scalar(select(func.count(Refund.id))) == 0


def test_a_refused_get_writes_nothing(client):
    login(client, "viewer")
    tx = factories.payment(factories.customer(), 5000)
    db.session.commit()
    assert client.get(f"{LIST}action/refund/{tx.id}/?modal=1").status_code == 403
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action != "login")) == 0  # only the login


@pytest.mark.parametrize("action, data", [
    ("subscription_cancel", {"when": "now"}),
    ("subscription_price", {"amount": "12.00", "effective": "next_renewal"}),
])
@pytest.mark.parametrize("key, message", [
    ("", "This form is damaged or incomplete"), ("k" * 65, "longer than 64 characters"),
])
def test_subscription_forms_refuse_an_empty_or_overlong_request_key(client, action, data, key,
                                                                     message):
    """An empty key must not switch off double-submit protection; nothing reaches a gateway."""
    login(client, "owner")
    sub = factories.subscription(factories.customer(), factories.plan())
    db.session.commit()
    url = f"/admin/subscription/action/{action}/{sub.id}/?url=/admin/subscription/"
    data = {**data, "request_key": key, "csrf_token": csrf_token(client, "/admin/subscription/")}
    page = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(func.count(SubscriptionChange.id))) == 0
