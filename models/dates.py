"""The store's days: one date format, in the store's locale and time zone (STORE_TIMEZONE).

Timestamps are stored as aware UTC. Every day shown to an admin, every day typed into a
filter or a pause form, is a day on the store's calendar: 2026-12-20T02:00Z is 19 Dec to a
Los Angeles store. Babel formats (month names in the store locale); zoneinfo converts.
"""
import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
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


@lru_cache(maxsize=8192)
def _day_text(day, locale):
    """Babel's DAY_FORMAT of a calendar day, once per day and locale: pages show the same
    few hundred days over and over (issue 22: Babel took ~22 us of CPU for a moment's day and
    time, the memos ~1 us, measured at a load of 10)."""
    return format_date(day, DAY_FORMAT, locale=babel_locale(locale))


# Fields of a time pattern whose text depends on the hour and minute alone (hours, minutes,
# AM/PM, day periods): no seconds, no zone.
_HOUR_MINUTE_FIELDS = re.compile(r"%\(([hHKkmabB])\1*\)s")


@lru_cache(maxsize=64)
def _short_time_by_minute(locale):
    """Whether the locale's short time shows nothing but the hour and minute (every CLDR
    locale so far): then it is formatted once per minute of the day, not once per moment."""
    pattern = babel_locale(locale).time_formats["short"].format
    return not re.sub(_HOUR_MINUTE_FIELDS, "", pattern).count("%(")


@lru_cache(maxsize=4096)
def _minute_text(hour, minute, locale):
    return format_time(time(hour, minute), "short", locale=babel_locale(locale))


def format_day(when, locale="en_US", tz="UTC"):
    """20 Dec 2026 on the store's calendar; "—" for no date. A bare date is shown as is."""
    if not when:
        return NONE
    day = when if not isinstance(when, datetime) else store_day(when, tz)
    if type(day) is not date:  # a date subclass: as Babel takes it, no cache
        return format_date(day, DAY_FORMAT, locale=babel_locale(locale))
    return _day_text(day, locale)


def format_moment(when, locale="en_US", tz="UTC"):
    """20 Dec 2026, 6:26 AM: the day format plus the locale's short time, store-local."""
    if not when:
        return NONE
    if not isinstance(when, datetime):
        return format_day(when, locale, tz)
    moment = local(when, tz)
    if _short_time_by_minute(locale):
        clock = _minute_text(moment.hour, moment.minute, locale)
    else:
        clock = format_time(moment.timetz(), "short", locale=babel_locale(locale))
    return f"{_day_text(moment.date(), locale)}, {clock}"


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
