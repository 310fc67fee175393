"""The store's days: one date format, in the store's locale and time zone (STORE_TIMEZONE).

Timestamps are stored as aware UTC. Every day shown to an admin, every day typed into a
filter or a pause form, is a day on the store's calendar: 2026-12-20T02:00Z is 19 Dec to a
Los Angeles store. Babel formats (month names in the store locale); zoneinfo converts.
"""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time

from models.money import babel_locale

#: the one day format: 20 Dec 2026 (month abbreviation in the store locale)
DAY_FORMAT = "d MMM y"
NONE = "—"


def store_zone(name):
    """The ZoneInfo for an IANA name ("America/Los_Angeles"); ValueError for an unknown one."""
    if not name or name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"STORE_TIMEZONE {name!r} is not an IANA time zone "
                         "(e.g. Europe/London, America/Los_Angeles).") from exc


def local(when, tz="UTC"):
    """An aware (or naive UTC) datetime on the store's clock."""
    zone = tz if not isinstance(tz, str) else store_zone(tz)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(zone)


def store_day(when, tz="UTC"):
    """The store-local calendar day of a timestamp."""
    return local(when, tz).date()


def format_day(when, locale="en_US", tz="UTC"):
    """20 Dec 2026 on the store's calendar; "—" for no date. A bare date is shown as is."""
    if not when:
        return NONE
    day = when if not isinstance(when, datetime) else store_day(when, tz)
    return format_date(day, DAY_FORMAT, locale=babel_locale(locale))


def format_moment(when, locale="en_US", tz="UTC"):
    """20 Dec 2026, 6:26 AM: the day format plus the locale's short time, store-local."""
    if not when:
        return NONE
    if not isinstance(when, datetime):
        return format_day(when, locale, tz)
    moment, locale = local(when, tz), babel_locale(locale)
    return f"{format_date(moment.date(), DAY_FORMAT, locale=locale)}, " \
           f"{format_time(moment.timetz(), 'short', locale=locale)}"


def add_cycle(when, interval, count=1):
    """`when` plus `count` billing intervals ("day", "week", "month", "year"); a month end
    is clamped (31 Jan + 1 month = 28/29 Feb), as the gateways bill."""
    if interval == "day":
        return when + timedelta(days=count)
    if interval == "week":
        return when + timedelta(weeks=count)
    months = count * (12 if interval == "year" else 1)
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    last = (datetime(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return when.replace(year=year, month=month, day=min(when.day, last))


def day_start(day, tz="UTC"):
    """The UTC instant a store-local calendar day begins (DST-correct)."""
    zone = tz if not isinstance(tz, str) else store_zone(tz)
    return datetime.combine(day, time(), zone).astimezone(timezone.utc)


def day_end(day, tz="UTC"):
    """The UTC instant the store-local day after `day` begins (exclusive end)."""
    return day_start(day + timedelta(days=1), tz)
