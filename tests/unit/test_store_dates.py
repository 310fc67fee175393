"""Issue 17 finding 17 and issue 21 item 15: one day format, on the store's calendar."""
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest

from actions import subscription_pause
from actions.deps import Deps
from models.dates import day_end, day_start, format_day, format_moment, store_zone

LATE_NIGHT_UTC = datetime(2026, 12, 20, 2, 0, tzinfo=timezone.utc)  # 19 Dec, 6 PM in LA


def test_a_utc_night_is_the_previous_day_in_los_angeles():
    assert format_day(LATE_NIGHT_UTC, "en_US", "America/Los_Angeles") == "19 Dec 2026"
    assert format_day(LATE_NIGHT_UTC, "en_US", "UTC") == "20 Dec 2026"
    assert format_day(LATE_NIGHT_UTC, "en_US", "Asia/Tokyo") == "20 Dec 2026"


def test_one_format_for_days_and_moments_in_the_store_locale():
    assert format_moment(LATE_NIGHT_UTC, "en_US", "America/Los_Angeles") == \
        "19 Dec 2026, 6:00\u202fPM"
    assert format_day(LATE_NIGHT_UTC, "de_DE", "Europe/Berlin") == "20 Dez. 2026"
    assert format_day(None) == "—" and format_day(date(2027, 1, 2)) == "2 Jan 2027"


def test_store_days_begin_at_local_midnight_across_daylight_saving():
    assert day_start(date(2026, 12, 19), "America/Los_Angeles") == \
        datetime(2026, 12, 19, 8, tzinfo=timezone.utc)  # PST, UTC-8
    assert day_start(date(2026, 7, 1), "America/Los_Angeles") == \
        datetime(2026, 7, 1, 7, tzinfo=timezone.utc)  # PDT, UTC-7
    assert day_end(date(2026, 3, 8), "America/Los_Angeles") - \
        day_start(date(2026, 3, 8), "America/Los_Angeles") == \
        datetime(2026, 3, 9, 7) - datetime(2026, 3, 8, 8)  # a 23-hour day


def test_an_unknown_zone_is_refused_with_its_name():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        store_zone("Mars/Olympus")


def test_the_pause_form_day_is_a_store_day(monkeypatch):
    """'Resume payments on 5 Jan 2027' in a Los Angeles store resumes at LA midnight."""
    seen = {}
    monkeypatch.setattr(subscription_pause, "pause_subscription",
                        lambda deps, actor, sub_id, **kw: seen.update(kw))
    deps = Deps(store_currency="USD", gateways=None, timezone="America/Los_Angeles")
    form = SimpleNamespace(resumes_on=SimpleNamespace(data=date(2027, 1, 5)),
                           request_key=SimpleNamespace(data="k"))
    subscription_pause._perform(SimpleNamespace(id=1), form, None, deps)
    assert seen["resumes_at"] == datetime(2027, 1, 5, 8, tzinfo=timezone.utc)
    assert deps.day(seen["resumes_at"]) == "5 Jan 2027"


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "ko_KR", "zh_Hant_TW", "ar_EG", "fa_IR"])
def test_moments_formatted_from_memos_are_babels(locale):
    """format_moment keeps a day's text and a minute's short time (issue 22): the same text as
    Babel's for each minute of a day and each day of a year, in locales whose short time has
    day periods (zh_Hant_TW), AM/PM first (ko_KR) or other digits (ar_EG, fa_IR)."""
    from datetime import timedelta

    from babel.dates import format_date, format_time

    zone = store_zone("America/Los_Angeles")
    start = datetime(2026, 3, 8, 9, 0, 17, tzinfo=timezone.utc)  # a daylight-saving change
    for step in [timedelta(minutes=m) for m in range(0, 1440, 7)] + \
            [timedelta(days=d, minutes=d) for d in range(0, 366, 5)]:
        when = start + step
        moment = when.astimezone(zone)
        babel = (f"{format_date(moment.date(), 'd MMM y', locale=locale)}, "
                 f"{format_time(moment.timetz(), 'short', locale=locale)}")
        assert format_moment(when, locale, "America/Los_Angeles") == babel
        assert format_day(when, locale, "America/Los_Angeles") == \
            format_date(moment.date(), "d MMM y", locale=locale)
