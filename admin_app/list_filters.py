"""List filters of our own: whole-day ranges on the timestamp columns (aware UTC datetimes),
and "access ends within N days" on subscriptions."""
from datetime import date, datetime, time, timedelta, timezone

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter

from models._types import utcnow
from models.access import access_ends_within


class DayRangeFilter(DateBetweenFilter):
    """Whole days from the date picker: start 00:00 UTC <= column < the day after the end."""

    # Flask-Admin's DateBetweenFilter compares the column with bare dates, which the aware
    # UTCDateTime columns reject (HTTP 500) and which would drop the last day. Two plain
    # comparisons also let `(gateway, created_at)`-style indexes serve the range.

    def validate(self, value):
        """Two real dates, the last one before 9999-12-31 (the day after it must exist)."""
        try:
            return super().validate(value) and max(self.clean(value)) < date.max
        except (ValueError, OverflowError):
            return False

    def apply(self, query, value, alias=None):
        start, end = (datetime.combine(day, time(), timezone.utc) for day in value)
        column = self.get_column(alias)
        return query.filter(column >= start, column < end + timedelta(days=1))


class AccessEndsWithinFilter(BaseSQLAFilter):
    """Access ends within N days (cancelled with access left, cancelling or paused)."""

    def __init__(self, column, name):
        super().__init__(column, name, options=[(str(n), f"{n} days") for n in (7, 14, 30)])

    def apply(self, query, value, alias=None):
        try:
            days = max(0, min(int(value), 3660))
        except (TypeError, ValueError):
            days = 7
        return query.filter(access_ends_within(utcnow(), days))

    def operation(self):
        return "within"
