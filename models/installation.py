"""This installation's own id: made once, stored in the database, part of every idempotency
key we send to a gateway (two installations on one Stripe account never share a key)."""
import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from models.base import db
from models._types import UTCDateTime, utcnow


class Installation(db.Model):
    __tablename__ = "installation"
    id = db.Column(db.Integer, primary_key=True)  # always 1: one row
    uid = db.Column(db.String(32), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


def installation_uid():
    """The stored id, created on first use (concurrent first uses agree on one row)."""
    uid = db.session.scalar(select(Installation.uid).where(Installation.id == 1))
    if uid is None:
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
            db.session.get_bind().dialect.name]
        db.session.execute(insert(Installation).values(
            id=1, uid=uuid.uuid4().hex, created_at=utcnow()).on_conflict_do_nothing())
        uid = db.session.scalar(select(Installation.uid).where(Installation.id == 1))
    return uid
