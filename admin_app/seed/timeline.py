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
    """A plan's billing period: whole months or days. A monthly subscription keeps the day
    of its anchor, clamped to short months and back again (31 Jan, 28 Feb, 31 Mar), as the
    gateways bill it: the demo has members anchored on the 29th-31st."""

    def __init__(self, interval, count):
        self.months, self.days = {"month": (count, 0), "year": (12 * count, 0),
                                  "week": (0, 7 * count)}.get(interval, (0, count))
        self.day = None  # the billing anchor's day of month, once anchored

    @property
    def shortest_seconds(self):
        return (28 * self.months + self.days) * DAY

    def anchor(self, when):
        """Bill on `when`'s day of month from now on (any day, 29th-31st included)."""
        self.day = when.day
        return when

    def shift(self, when, periods):
        """`when` moved by `periods` billing periods (negative: back)."""
        if self.months:
            month = when.month - 1 + self.months * periods
            year, month = when.year + month // 12, month % 12 + 1
            return when.replace(year=year, month=month,
                                day=min(self.day or when.day, monthrange(year, month)[1]))
        return when + timedelta(days=self.days * periods)
