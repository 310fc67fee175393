"""Internal notes on a customer: support and above may add one; audited; shown in the
customer's timeline (actions.timeline). Never sent to the customer."""
from actions import audit
from actions.base import ActionResult
from actions.errors import InvalidRequest
from actions.locks import lock
from actions.permissions import require
from models import NOTE_MAX_LENGTH, Customer, CustomerNote, db
from models.text import clean_text


def note_text(text):
    """The note as stored: lines kept, each cleaned by the one text rule (no control or
    direction characters), blank lines at the ends dropped; InvalidRequest when empty or
    longer than NOTE_MAX_LENGTH characters."""
    lines = [clean_text(line) for line in str(text or "").replace("\r\n", "\n")
             .replace("\r", "\n").split("\n")]
    body = "\n".join(lines).strip("\n")
    if not body.strip():
        raise InvalidRequest("Write the note first; an empty note was not added.")
    if len(body) > NOTE_MAX_LENGTH:
        raise InvalidRequest(f"A note may be at most {NOTE_MAX_LENGTH:,} characters long; "
                             f"this one has {len(body):,}. Shorten it; nothing was added.")
    return body


def add_note(actor, customer_id, text):
    """Add an internal note to the customer; audited; one commit."""
    require(actor, "add_note")
    body = note_text(text)
    customer = lock(Customer, customer_id, "This customer no longer exists.")
    note = CustomerNote(customer_id=customer.id, author_id=getattr(actor, "id", None),
                        author_email=getattr(actor, "email", None), body=body)
    db.session.add(note)
    db.session.flush()
    audit.record(actor, "customer.note", customer, outcome="succeeded",
                 after={"note_id": note.id, "text": body})
    db.session.commit()
    return ActionResult(f"Added a note to {customer.name}.")
