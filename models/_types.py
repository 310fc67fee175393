"""Column helpers shared by the models."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.types import TypeDecorator

# BIGINT on PostgreSQL, INTEGER on SQLite (so that it stays the rowid alias there).
BigId = BigInteger().with_variant(Integer(), "sqlite")


#: how far the business clock runs ahead of the real one (the demo moves it together with
#: its gateway sandbox's clock, `flask sandbox advance`; production never sets it)
_CLOCK_OFFSET = [timedelta(0)]


#: None: the business clock runs with real time; an aware datetime: it stands there (moved
#: on only by set_clock_offset), as the simulation's frozen sandbox clock does
_FROZEN_AT = [None]


def utcnow():
    """Timezone-aware now in UTC (on the business clock, see set_clock_offset)."""
    frozen = _FROZEN_AT[0]
    return (datetime.now(timezone.utc) if frozen is None else frozen) + _CLOCK_OFFSET[0]


def freeze_clock(at):
    """Stop the business clock at `at` (an aware datetime; None: real time again); the
    offset still moves it on (tests/simulation: the sandbox's frozen clock)."""
    if at is not None and at.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    _FROZEN_AT[0] = at


def set_clock_offset(seconds):
    """Run the business clock `seconds` ahead of real time (the demo's time machine)."""
    _CLOCK_OFFSET[0] = timedelta(seconds=seconds)


def clock_offset():
    return _CLOCK_OFFSET[0]


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
