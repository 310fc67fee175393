"""The sandbox's time arithmetic, as the vendors do it (Unix seconds, UTC)."""
import calendar
from datetime import datetime, timedelta, timezone

DAY = 86400


def iso(timestamp):
    return datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def add_interval(timestamp, interval, count=1):
    """timestamp + count intervals, as the vendors bill (a month from 31 Jan is 28/29 Feb)."""
    start = datetime.fromtimestamp(int(timestamp), timezone.utc)
    interval = interval.lower()
    if interval in ("day", "week"):
        return int((start + timedelta(days=count * (7 if interval == "week" else 1)))
                   .timestamp())
    months = count * (12 if interval == "year" else 1)
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    end = start.replace(year=year, month=month,
                        day=min(start.day, calendar.monthrange(year, month)[1]))
    return int(end.timestamp())
