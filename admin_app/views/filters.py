"""List filters for the timestamp columns (aware UTC datetimes)."""
from datetime import date, datetime, time, timedelta, timezone

from flask_admin.contrib.sqla.filters import DateBetweenFilter


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
