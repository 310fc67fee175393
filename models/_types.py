"""Column helpers shared by the models."""
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.types import TypeDecorator

# BIGINT on PostgreSQL, INTEGER on SQLite (so that it stays the rowid alias there).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow():
    """Timezone-aware now in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A datetime stored as UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
