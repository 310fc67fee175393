"""Seconds, aware datetimes and billing periods of the generated data."""
from calendar import monthrange
from datetime import datetime, timedelta, timezone

DAY = 86400  # seconds


def moment(timestamp):
    """A POSIX timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, timezone.utc)


def timestamp_of(when):
    return int(when.timestamp())


class Cycle:
    """A plan's billing period: whole months (clamped to the month's end) or days."""

    def __init__(self, interval, count):
        self.months, self.days = {"month": (count, 0), "year": (12 * count, 0),
                                  "week": (0, 7 * count)}.get(interval, (0, count))

    @property
    def shortest_seconds(self):
        return (28 * self.months + self.days) * DAY

    def anchor(self, when):
        """Monthly billing anchors on day 1-28, so that whole months move exactly both ways."""
        return when.replace(day=28) if self.months and when.day > 28 else when

    def shift(self, when, periods):
        """`when` moved by `periods` billing periods (negative: back)."""
        if self.months:
            month = when.month - 1 + self.months * periods
            year, month = when.year + month // 12, month % 12 + 1
            return when.replace(year=year, month=month,
                                day=min(when.day, monthrange(year, month)[1]))
        return when + timedelta(days=self.days * periods)
