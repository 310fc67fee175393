"""Internal notes on a customer, written by admins (support and above); never shown to the
customer, shown in the customer's timeline."""
from models.base import db
from models._types import BigId, UTCDateTime, utcnow

#: the longest note, in characters (the form says so when a note is longer)
NOTE_MAX_LENGTH = 2000


class CustomerNote(db.Model):
    __tablename__ = "customer_note"
    id = db.Column(BigId, primary_key=True)
    customer_id = db.Column(db.BigInteger, db.ForeignKey("customer.id", ondelete="CASCADE"),
                            nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("admin_user.id"))
    author_email = db.Column(db.String(254))  # as it was when written
    body = db.Column(db.Text, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (db.Index("ix_customer_note_customer", "customer_id", "created_at", "id"),)
