"""Invoice re-send, Edit Sale, customer details, catalog and admin users: what each refuses
(nothing changed) and what the admin then sees in the record, the outbox and the audit log."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions import admin_users, catalog
from actions.affiliate import set_sale_affiliate
from actions.bulk.resend_latest_invoice import resend_latest_invoice_row
from actions.customer_details import update_customer
from actions.errors import EmailFailed, InvalidRequest
from actions.invoice import last_sent, resend_invoice
from models import Affiliate, AdminUser, Customer, Plan, Transaction, db
from models.customer import DETAIL_FIELDS
from tests import factories
from tests.actions.support import FAST, audit_entries, fresh, ltv, nothing_changes, paid


# -- invoice -------------------------------------------------------------------------------
def test_the_invoice_goes_to_the_customer_with_its_pdf(deps, actors, gateways, outbox,
                                                       real_pdf):
    tx = paid(gateways, 12000, customer=factories.customer(name="Ada Lovelace",
                                                             email="ada@example.com"))
    result = resend_invoice(deps, actors["support"], tx.id)
    label = f"INV-{tx.invoice_number:06d}"
    assert result.message == f"Invoice {label} was sent to ada@example.com."
    mail, = outbox
    assert mail.recipients == [("Ada Lovelace", "ada@example.com")]
    assert mail.subject == f"Invoice {label} from Acme Courses"
    assert "$120.00" in mail.body
    pdf, = mail.attachments
    assert pdf.filename == f"invoice-{label}.pdf" and pdf.data.startswith(b"%PDF")
    assert last_sent(tx.id).to == "ada@example.com"


@pytest.mark.parametrize(("status", "email", "message"), [
    ("failed", "x@example.com", "has no invoice"),
    ("pending", "x@example.com", "has no invoice"),
    ("succeeded", "", "has no email address"),
])
def test_no_invoice_or_no_address_is_refused_and_sends_nothing(deps, actors, gateways, outbox,
                                                               status, email, message):
    tx = factories.payment(factories.customer(email=email), status=status)
    db.session.commit()
    with nothing_changes(gateways, outbox), pytest.raises(InvalidRequest, match=message):
        resend_invoice(deps, actors["owner"], tx.id)


def test_a_mail_server_refusal_is_said_and_audited(deps, actors, gateways, outbox):
    tx = paid(gateways)
    outbox.fail_next = "550 mailbox unavailable"
    with pytest.raises(EmailFailed, match="550 mailbox unavailable"):
        resend_invoice(deps, actors["owner"], tx.id)
    assert outbox == [] and last_sent(tx.id) is None
    assert audit_entries("invoice.resend")[-1].outcome == "failed"


def test_the_bulk_row_sends_the_latest_invoice(deps, actors, gateways, outbox):
    customer = factories.customer()
    paid(gateways, 1000, customer=customer, minutes=1)
    latest = paid(gateways, 2000, customer=customer, minutes=5)
    outcome = resend_latest_invoice_row(deps, actors["finance"], customer.id, {}, "job:1:row:1")
    assert outcome.state == "done" and f"INV-{latest.invoice_number:06d}" in outbox[0].subject
    nobody = factories.customer()
    db.session.commit()
    with nothing_changes(gateways, outbox), pytest.raises(InvalidRequest, match="no invoice"):
        resend_latest_invoice_row(deps, actors["finance"], nobody.id, {}, "job:1:row:2")


# -- Edit Sale -----------------------------------------------------------------------------
@FAST
@given(commission=st.integers(min_value=-5000, max_value=15000))
def test_a_commission_outside_zero_to_net_is_refused(deps, actors, gateways, commission):
    partner = factories.affiliate()
    tx = paid(gateways, 10000, affiliate_id=partner.id, commission_cents=700)
    if 0 <= commission <= tx.net_cents:
        set_sale_affiliate(deps, actors["support"], tx.id, partner.id, commission)
        assert fresh(Transaction, tx.id).commission_cents == commission
    else:
        with nothing_changes(gateways), pytest.raises(InvalidRequest, match="between"):
            set_sale_affiliate(deps, actors["support"], tx.id, partner.id, commission)
    assert ltv(tx.customer_id) == 10000  # a commission never changes lifetime value


def test_edit_sale_moves_the_commission_and_audits_before_and_after(deps, actors, gateways):
    old, new = factories.affiliate(name="Old"), factories.affiliate(name="New")
    tx = paid(gateways, 10000, affiliate_id=old.id, commission_cents=1000)
    result = set_sale_affiliate(deps, actors["finance"], tx.id, new.id, 1500)
    assert result.message == "The sale now goes to New with a commission of $15.00."
    tx = fresh(Transaction, tx.id)
    assert (tx.affiliate_id, tx.commission_cents) == (new.id, 1500)
    entry = audit_entries("sale.affiliate")[-1]
    assert entry.before == {"affiliate_id": old.id, "commission_cents": 1000}
    assert entry.after == {"affiliate_id": new.id, "commission_cents": 1500}


@pytest.mark.parametrize(("status", "affiliate", "commission", "message"), [
    ("failed", "known", 100, "Only a successful payment has an affiliate commission"),
    ("succeeded", "gone", 100, "no longer exists"),
    ("succeeded", None, 100, "without an affiliate has no commission"),
])
def test_a_refused_sale_edit_changes_nothing(deps, actors, gateways, status, affiliate,
                                             commission, message):
    partner = factories.affiliate()
    tx = factories.payment(factories.customer(), 10000, status=status)
    db.session.commit()
    target = {"known": partner.id, "gone": partner.id + 50, None: None}[affiliate]
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        set_sale_affiliate(deps, actors["owner"], tx.id, target, commission)


def test_a_partly_refunded_sale_caps_the_commission_at_what_is_left(deps, actors, gateways):
    partner = factories.affiliate()
    tx = paid(gateways, 10000, affiliate_id=partner.id, refunded_cents=6000)
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=r"\$40.00"):
        set_sale_affiliate(deps, actors["owner"], tx.id, partner.id, 4001)


# -- customer details ------------------------------------------------------------------------
def _details(customer, **changes):
    values = {key: getattr(customer, key) for key, _label in DETAIL_FIELDS}
    values.update(changes)
    return values


def test_customer_details_are_saved_and_audited_field_by_field(deps, actors, gateways):
    customer = factories.customer(name="Ada", email="ada@example.com")
    db.session.commit()
    result = update_customer(deps, actors["support"], customer.id,
                             _details(customer, name="Ada King", city="London"))
    assert result.message == "Saved the details of Ada King."
    saved = fresh(Customer, customer.id)
    assert (saved.name, saved.city, saved.email) == ("Ada King", "London", "ada@example.com")
    entry = audit_entries("customer.edit")[-1]
    assert entry.after == {"name": "Ada King", "city": "London"}
    assert entry.before == {"name": "Ada", "city": None}


def test_an_email_another_customer_has_is_refused(deps, actors, gateways):
    factories.customer(email="taken@example.com")
    customer = factories.customer()
    db.session.commit()
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="already has this"):
        update_customer(deps, actors["owner"], customer.id,
                        _details(customer, email="TAKEN@example.com"))


def test_saving_the_same_details_changes_nothing(deps, actors, gateways):
    customer = factories.customer()
    db.session.commit()
    with nothing_changes(gateways):
        result = update_customer(deps, actors["owner"], customer.id, _details(customer))
    assert result.category == "info"


def test_a_new_avatar_replaces_the_old_file(deps, actors, gateways):
    from pathlib import Path

    from PIL import Image
    customer = factories.customer()
    db.session.commit()
    folder = Path(deps.setting("AVATAR_DIR"))
    update_customer(deps, actors["owner"], customer.id, _details(customer),
                    avatar_image=Image.new("RGB", (8, 8), "red"))
    first = fresh(Customer, customer.id).avatar
    assert (folder / first).exists()
    update_customer(deps, actors["owner"], customer.id, _details(customer),
                    avatar_image=Image.new("RGB", (8, 8), "blue"))
    second = fresh(Customer, customer.id).avatar
    assert second != first and (folder / second).exists() and not (folder / first).exists()


# -- catalog ---------------------------------------------------------------------------------
PLAN = {"name": "Gold", "price": "19.00", "currency": "usd", "interval": "month",
        "interval_count": 1, "active": True, "stripe_price_id": "price_gold"}


def test_a_plan_is_created_from_what_the_admin_typed(deps, actors):
    plan = catalog.create_plan(deps, actors["owner"], PLAN)
    plan = fresh(Plan, plan.id)
    assert (plan.price_cents, plan.currency, plan.cycle) == (1900, "USD", "Monthly")
    assert audit_entries("plan.create")[-1].after["price_cents"] == 1900


@pytest.mark.parametrize(("change", "message"), [
    ({"currency": "XXX"}, "is not an ISO currency code"),
    ({"price": "abc"}, "Price:"),
    ({"price": "-1.00"}, "cannot be negative|Price:"),
    ({"interval": "fortnight"}, "billing interval must be one of"),
    ({"interval_count": 0}, "Bill every 1 to 36"),
    ({"interval_count": True}, "Bill every 1 to 36"),
    ({"name": "  "}, "A name is required"),
    ({"stripe_price_id": "p" * 65}, "at most 64 characters"),
])
def test_a_bad_plan_is_refused_and_nothing_is_written(deps, actors, gateways, change, message):
    plan = factories.plan()
    db.session.commit()
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        catalog.create_plan(deps, actors["owner"], {**PLAN, **change})
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        catalog.update_plan(deps, actors["owner"], plan.id, {**PLAN, **change})


@FAST
@given(percent=st.decimals(min_value=-10, max_value=110, places=3, allow_nan=False))
def test_an_affiliate_rate_is_0_to_100_percent_with_two_decimals(deps, actors, gateways,
                                                                 percent):
    fields = {"name": "Ann", "email": "ann@example.com", "commission_percent": str(percent)}
    if 0 <= percent <= 100 and percent == round(percent, 2):
        affiliate = catalog.create_affiliate(deps, actors["owner"], fields)
        assert fresh(Affiliate, affiliate.id).commission_rate_bp == int(percent * 100)
        db.session.delete(fresh(Affiliate, affiliate.id))
        db.session.commit()
    else:
        with nothing_changes(gateways), pytest.raises(InvalidRequest):
            catalog.create_affiliate(deps, actors["owner"], fields)


def test_two_affiliates_cannot_share_an_email(deps, actors, gateways):
    fields = {"name": "Ann", "email": "ann@example.com", "commission_percent": "10"}
    catalog.create_affiliate(deps, actors["owner"], fields)
    other = catalog.create_affiliate(deps, actors["owner"], {**fields, "email": "b@example.com"})
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="already the email"):
        catalog.create_affiliate(deps, actors["owner"], {**fields, "email": "ANN@example.com"})
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="already the email"):
        catalog.update_affiliate(deps, actors["owner"], other.id, fields)


# -- admin users -----------------------------------------------------------------------------
def test_the_last_active_owner_cannot_be_demoted_or_deactivated(deps, actors, gateways):
    owner = actors["owner"]
    for call in (lambda: admin_users.change_role(owner, owner.id, "finance"),
                 lambda: admin_users.set_active(owner, owner.id, False)):
        with nothing_changes(gateways), pytest.raises(InvalidRequest, match="last active owner"):
            call()
    second = AdminUser(email="second@example.com", role="owner", password_hash="x")
    db.session.add(second)
    db.session.commit()
    admin_users.change_role(owner, second.id, "support")
    assert fresh(AdminUser, second.id).role == "support"


def test_a_role_change_or_deactivation_ends_the_users_sessions(deps, actors):
    viewer = actors["viewer"]
    token = viewer.session_token
    admin_users.change_role(actors["owner"], viewer.id, "support")
    changed = fresh(AdminUser, viewer.id)
    assert changed.role == "support" and changed.session_token != token
    admin_users.set_active(actors["owner"], viewer.id, False)
    assert not fresh(AdminUser, viewer.id).can("view")
    assert audit_entries("deactivate_admin")[-1].outcome == "succeeded"


@pytest.mark.parametrize(("call", "message"), [
    (lambda o, v, d: admin_users.change_role(o, v.id, "admiral"), "There is no role"),
    (lambda o, v, d: admin_users.change_role(o, v.id, "viewer"), "already has the role"),
    (lambda o, v, d: admin_users.set_active(o, v.id, True), "is already active"),
    (lambda o, v, d: admin_users.end_sessions(o, 999), "There is no such admin user"),
    (lambda o, v, d: admin_users.invite(o, "viewer@example.com", "support", deps=d,
                                        link_hours=24), "already has an account"),
    (lambda o, v, d: admin_users.invite(o, "not an address", "support", deps=d,
                                        link_hours=24), "cannot be used"),
    (lambda o, v, d: admin_users.invite(o, "n@example.com", "root", deps=d,
                                        link_hours=24), "There is no role"),
])
def test_a_refused_admin_change_changes_nothing(deps, actors, gateways, call, message):
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match=message):
        call(actors["owner"], actors["viewer"], deps)


def test_an_invitation_link_works_once_and_until_it_expires(deps, actors, clock):
    user, token = admin_users.invite(actors["owner"], "New@Example.com", "support", deps=deps,
                                     link_hours=24)
    assert fresh(AdminUser, user.id).email == "new@example.com"
    assert admin_users.user_for_link(token, deps=deps).id == user.id
    clock.advance(hours=25)
    with pytest.raises(InvalidRequest, match="expired"):
        admin_users.set_password_from_link(token, "long enough password", deps=deps)
    _user, token = admin_users.new_password_link(actors["owner"], user.id, deps=deps,
                                                 link_hours=24)
    admin_users.set_password_from_link(token, "long enough password", deps=deps)
    assert fresh(AdminUser, user.id).check_password("long enough password")
    with pytest.raises(InvalidRequest, match="already used"):
        admin_users.set_password_from_link(token, "another long password", deps=deps)


def _with_password(user, password="correct horse battery"):
    user.set_password(password)
    db.session.commit()
    return user


def test_log_in_with_the_right_password_only_and_both_are_audited(actors):
    finance = _with_password(actors["finance"])
    assert admin_users.authenticate("FINANCE@example.com", "correct horse battery",
                                    address="10.0.0.1").id == finance.id
    assert admin_users.authenticate("finance@example.com", "wrong", address="10.0.0.1") is None
    assert admin_users.authenticate("nobody@example.com", "x", address="10.0.0.1") is None
    _with_password(actors["inactive"])
    assert admin_users.authenticate("inactive@example.com", "correct horse battery",
                                    address="10.0.0.1") is None
    assert [e.outcome for e in audit_entries("login")] == ["succeeded", "failed", "failed",
                                                           "failed"]


def test_logging_out_ends_every_session_of_the_user(actors):
    support = actors["support"]
    token = support.session_token
    admin_users.log_out(support, address="10.0.0.1")
    assert fresh(AdminUser, support.id).session_token != token


def test_changing_ones_own_password(actors, gateways):
    user = _with_password(actors["support"])
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="current password"):
        admin_users.change_own_password(user, "wrong", "a new long password")
    assert audit_entries("change_password")[-1].outcome == "rejected"
    with nothing_changes(gateways), pytest.raises(InvalidRequest, match="at least"):
        admin_users.change_own_password(user, "correct horse battery", "short")
    token = fresh(AdminUser, user.id).session_token
    admin_users.change_own_password(fresh(AdminUser, user.id), "correct horse battery",
                                    "a new long password")
    changed = fresh(AdminUser, user.id)
    assert changed.check_password("a new long password") and changed.session_token != token


def test_the_set_password_link_is_mailed_to_the_new_admin(deps, actors, outbox):
    user, token = admin_users.invite(actors["owner"], "new@example.com", "viewer", deps=deps,
                                     link_hours=24)
    admin_users.mail_password_link(user, f"https://panel.test/password/{token}", deps=deps)
    mail, = outbox
    assert mail.recipients == ["new@example.com"]
    assert f"https://panel.test/password/{token}" in mail.body and "role viewer" in mail.body
