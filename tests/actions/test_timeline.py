"""A customer's timeline (actions/timeline.py) and internal notes (actions/customer_notes.py):
every source shows with its author, newest first; walking the pages gives every entry once,
in order, whatever instants the entries share; notes: support may add, viewers may not."""
from datetime import timedelta

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import func, select

from actions import audit
from actions.customer_notes import add_note
from actions.errors import InvalidRequest, NotAllowed
from actions.sync.records import WEBHOOK
from actions.timeline import timeline_page
from models import (AuditEvent, CustomerNote, Dispute, NOTE_MAX_LENGTH, Refund,
                    SubscriptionChange, WebhookEvent, db)
from tests import factories as f
from tests.actions.support import FAST
from tests.sql_spy import statements

T0 = f.BASE_TIME


def _walk(customer_id, page_size):
    entries, before, pages = [], None, 0
    while True:
        page = timeline_page(customer_id, before, page_size=page_size)
        entries += page.entries
        pages += 1
        assert len(page.entries) <= page_size
        if page.older is None:
            return entries, pages
        assert len(page.entries) == page_size  # only a full page has an older one
        before = page.older


def test_each_source_appears_with_its_author_newest_first(actors):
    owner, support = actors["owner"], actors["support"]
    cust = f.customer()
    tx = f.payment(cust, 5000, created_at=T0)
    sub = f.subscription(cust, f.plan())
    db.session.add_all([
        Refund(transaction_id=tx.id, amount_cents=1500, currency="USD", status="succeeded",
               created_by_id=owner.id, created_at=T0 + timedelta(hours=1)),
        Refund(transaction_id=tx.id, amount_cents=1000, currency="USD", status="succeeded",
               gateway_ref="re_1", created_at=T0 + timedelta(hours=2)),
        Dispute(transaction_id=tx.id, gateway="stripe", gateway_ref="dp_1", amount_cents=2500,
                currency="USD", status="lost", reason="fraudulent",
                created_at=T0 + timedelta(hours=3)),
        SubscriptionChange(subscription_id=sub.id, kind="price", status="succeeded",
                           params={"ask": {"amount_cents": 5900}}, created_by_id=owner.id,
                           created_at=T0 + timedelta(hours=4)),
        WebhookEvent(gateway="stripe", event_id="evt_1", event_type="charge.refunded",
                     payload="{}", status="processed", customer_id=cust.id,
                     received_at=T0 + timedelta(hours=5))])
    audit.record(support, "customer.edit", cust, outcome="succeeded",
                 before={"phone": None}, after={"phone": "+1 555"}).created_at = \
        T0 + timedelta(hours=6)
    audit.record(support, "invoice.resend", ("transaction", tx.id), outcome="succeeded",
                 after={"to": cust.email, "invoice": "INV-1"}).created_at = \
        T0 + timedelta(hours=7)
    audit.record(WEBHOOK, "subscription.synced", sub, outcome="succeeded",
                 before={"status": "active"}, after={"status": "canceled"}).created_at = \
        T0 + timedelta(hours=8)
    audit.record(owner, "login", owner, outcome="succeeded")  # no customer's: not shown
    db.session.commit()
    add_note(support, cust.id, "Called about the <b>refund</b>")

    entries = timeline_page(cust.id).entries
    seen = [(e.kind, e.title, e.who) for e in entries]
    assert seen == [
        ("note", "Internal note", "support@example.com"),
        ("subscription", "Subscription changed at Stripe", "Stripe"),
        ("email", "E-mail: invoice INV-1 sent", "support@example.com"),
        ("edit", "Details edited", "support@example.com"),
        ("webhook", "Webhook received: charge.refunded", "Stripe"),
        ("subscription", "Price change of Pro Monthly", "owner@example.com"),
        ("dispute", "Dispute lost", "Stripe"),
        ("refund", "Refund succeeded", "Stripe"),
        ("refund", "Refund succeeded", "owner@example.com"),
        ("payment", "Payment succeeded", "Stripe"),
    ]
    assert [e.amount for e in entries if e.amount] == [
        (5900, "USD"), (2500, "USD"), (1000, "USD"), (1500, "USD"), (5000, "USD")]
    assert entries[0].detail == "Called about the <b>refund</b>"  # stored as typed
    assert entries[1].detail == "status active → canceled"
    assert entries[3].detail == "Phone"


def test_refunds_and_disputes_carry_their_payments_customer(actors):
    """However a refund or dispute row is written (action, webhook, test), it is stamped
    with its payment's customer: the timeline reads them by customer."""
    cust = f.customer()
    tx = f.payment(cust)
    refund = Refund(transaction_id=tx.id, amount_cents=100, currency="USD")
    dispute = Dispute(transaction_id=tx.id, gateway="stripe", gateway_ref="dp_9",
                      amount_cents=100, currency="USD")
    db.session.add_all([refund, dispute])
    db.session.commit()
    assert (refund.customer_id, dispute.customer_id) == (cust.id, cust.id)


def test_a_customers_timeline_holds_only_their_own_entries(actors):
    mine, other = f.customer(), f.customer()
    f.payment(other)
    add_note(actors["owner"], other.id, "theirs")
    assert timeline_page(mine.id).entries == []


@FAST
@given(st.lists(st.tuples(st.sampled_from(["payment", "refund", "note", "webhook"]),
                          st.integers(0, 4)), max_size=30),
       st.integers(1, 7))
def test_walking_the_pages_gives_every_entry_once_newest_first(actors, events, page_size):
    """Entries of several sources share instants (ties): the cursor still neither skips nor
    repeats one; the pages together are every row of every source, in (time, source, id)
    order."""
    db.session.rollback()
    for model in (CustomerNote, Refund, WebhookEvent, AuditEvent):
        db.session.execute(model.__table__.delete())
    db.session.commit()
    cust = f.customer()
    tx = f.payment(cust, 100_000, created_at=T0)
    for kind, minute in events:
        when = T0 + timedelta(minutes=minute)
        if kind == "payment":
            f.payment(cust, 100, created_at=when)
        elif kind == "refund":
            db.session.add(Refund(transaction_id=tx.id, amount_cents=1, currency="USD",
                                  status="succeeded", created_at=when))
        elif kind == "note":
            db.session.add(CustomerNote(customer_id=cust.id, body="n", created_at=when))
        else:
            db.session.add(WebhookEvent(gateway="stripe", event_id=f"evt_{len(events)}_"
                                        f"{db.session.scalar(select(func.count(WebhookEvent.id)))}",
                                        event_type="x", payload="{}", customer_id=cust.id,
                                        received_at=when))
        db.session.flush()
    db.session.commit()
    entries, pages = _walk(cust.id, page_size)
    keys = [e.key for e in entries]
    assert keys == sorted(keys, reverse=True)
    assert len(set((e.kind, e.id) for e in entries)) == len(entries) == len(events) + 1
    assert pages == max(1, -(-len(entries) // page_size))


@pytest.mark.parametrize("cursor", ["", "x", "1.2", "1.2.3.4", "9" * 19 + ".1.1", "1.x.1",
                                    "999999999999999999.1.1", "1.1." + "9" * 19, "١.1.1"])
def test_a_damaged_cursor_is_a_message(actors, cursor):
    cust = f.customer()
    with pytest.raises(InvalidRequest, match="does not exist"):
        timeline_page(cust.id, cursor)


@pytest.mark.parametrize("role", ["owner", "finance", "support"])
def test_support_and_above_add_a_note_audited(actors, role):
    cust = f.customer()
    result = add_note(actors[role], cust.id, "  Wants an invoice\r\nwith the VAT number \u202e ")
    assert result.category == "success"
    note = db.session.scalar(select(CustomerNote))
    assert (note.body, note.author_email) == ("Wants an invoice\nwith the VAT number",
                                              f"{role}@example.com")
    entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.note"))
    assert (entry.actor_email, entry.target_id, entry.after["note_id"]) == \
        (f"{role}@example.com", cust.id, note.id)


@pytest.mark.parametrize("role", ["viewer", "inactive"])
def test_a_viewer_may_not_add_a_note(actors, role):
    cust = f.customer()
    with pytest.raises(NotAllowed):
        add_note(actors[role], cust.id, "sneaky")
    assert db.session.scalar(select(func.count(CustomerNote.id))) == 0


@pytest.mark.parametrize("text, message", [
    ("", "Write the note first"), (" \n\t \n", "Write the note first"),
    ("x" * (NOTE_MAX_LENGTH + 1), f"at most {NOTE_MAX_LENGTH:,} characters long; this one "
                                  f"has {NOTE_MAX_LENGTH + 1:,}")])
def test_an_empty_or_too_long_note_is_refused_with_a_message(actors, text, message):
    cust = f.customer()
    with pytest.raises(InvalidRequest, match=message):
        add_note(actors["support"], cust.id, text)
    assert db.session.scalar(select(func.count(CustomerNote.id))) == 0
    add_note(actors["support"], cust.id, "x" * NOTE_MAX_LENGTH)  # the longest one is fine


def test_a_page_costs_the_same_queries_and_limits_however_long_the_history(actors):
    """A page reads each source with LIMIT page + 1: the statements are the same for a
    customer with 3 payments as for one with 60 (with their refunds and notes: 18 pages of
    10; the walk's property test covers the order, this one the cost)."""
    def history(n):
        cust = f.customer()
        for i in range(n):
            tx = f.payment(cust, 1000, created_at=T0 + timedelta(hours=i))
            db.session.add(Refund(transaction_id=tx.id, amount_cents=10, currency="USD",
                                  created_at=T0 + timedelta(hours=i, minutes=5)))
            db.session.add(CustomerNote(customer_id=cust.id, body="n",
                                        created_at=T0 + timedelta(hours=i, minutes=9)))
        db.session.commit()
        return cust.id

    small, large = history(3), history(60)
    seen = {}
    for cid in (small, large):
        db.session.expunge_all()
        with statements() as seen[cid]:
            page = timeline_page(cid, page_size=10)
            timeline_page(cid, page.older, page_size=10)
    assert len(seen[small]) == len(seen[large])
    reads = [s for s in seen[large] if "ORDER BY" in s]
    assert len(reads) == 2 * 7 and all("LIMIT" in s for s in reads)
