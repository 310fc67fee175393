"""Paying customers, with their stored lifetime value."""
from sqlalchemy import func
from sqlalchemy.orm import validates

from models.base import db
from models._types import BigId, UTCDateTime, utcnow
from models.text import clean_text

# The editable details, in the order of the CSV export and the edit form.
DETAIL_FIELDS = [
    ("name", "Name"), ("email", "Email"), ("company", "Company"),
    ("company_id", "Company ID"), ("company_email", "Company Email"), ("tax_id", "Tax ID"),
    ("phone", "Phone"), ("address", "Address"), ("city", "City"), ("state", "State"),
    ("postal_code", "Zip/Postal Code"), ("country", "Country"), ("vat_number", "VAT Number"),
]


class Customer(db.Model):
    __tablename__ = "customer"
    id = db.Column(BigId, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    email = db.Column(db.String(254), nullable=False)
    company = db.Column(db.String(200))
    company_id = db.Column(db.String(64))
    company_email = db.Column(db.String(254))
    tax_id = db.Column(db.String(64))
    phone = db.Column(db.String(64))
    address = db.Column(db.String(300))
    city = db.Column(db.String(120))
    state = db.Column(db.String(120))
    postal_code = db.Column(db.String(32))
    country = db.Column(db.String(2))  # ISO 3166-1 alpha-2
    vat_number = db.Column(db.String(32))
    avatar = db.Column(db.String(64))  # file name inside AVATAR_DIR
    stripe_customer_id = db.Column(db.String(64), unique=True)
    paypal_payer_id = db.Column(db.String(64), unique=True)
    # Successful payments minus refunds in STORE_CURRENCY, maintained by the actions in the
    # same database transaction as the payment or refund; `flask recompute-ltv` checks it.
    lifetime_value_cents = db.Column(db.BigInteger, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # The gateway's time of the newest state applied from it (webhook or sync): older events
    # never overwrite newer details.
    gateway_updated_at = db.Column(UTCDateTime)

    transactions = db.relationship("Transaction", back_populates="customer", lazy="dynamic")
    subscriptions = db.relationship("Subscription", back_populates="customer", lazy="dynamic")

    __table_args__ = (
        db.Index("uq_customer_email_lower", func.lower(email), unique=True),
        db.Index("ix_customer_ltv", "lifetime_value_cents", "id"),
        db.Index("ix_customer_created", "created_at", "id"),
        # the list's Country filter, newest first (migration 0017)
        db.Index("ix_customer_country", "country", "created_at", "id"),
    )

    @validates(*(name for name, _ in DETAIL_FIELDS))
    def _clean_text(self, key, value):
        """Every detail as stored is clean text (models/text.py), whoever wrote it: a
        gateway's webhook, the sync, an import. The edit form refuses such text first."""
        return clean_text(value) if isinstance(value, str) else value

    def __str__(self):
        return f"{self.name} <{self.email}>"
