"""List filters of our own: whole store-local days on the timestamp columns (aware UTC
datetimes), and "access ends within N days" on subscriptions."""
from datetime import date

from flask import current_app
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, IntEqualFilter

from admin_app.input_guard import is_db_id
from models._types import utcnow
from models.access import access_ends_within
from models.dates import day_end, day_start
from models.sub_state import STATES, state_sql


class DayRangeFilter(DateBetweenFilter):
    """Whole store-local days from the date picker (STORE_TIMEZONE): the first day's start
    <= column < the start of the day after the last."""

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
        tz = current_app.config["STORE_TIMEZONE"]
        start, end = day_start(value[0], tz), day_end(value[1], tz)
        column = self.get_column(alias)
        return query.filter(column >= start, column < end)


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


class StateFilter(BaseSQLAFilter):
    """Status: one value per state, the same for both gateways (models/sub_state.py)."""

    def __init__(self, column, name):
        super().__init__(column, name, options=list(STATES.items()))

    def apply(self, query, value, alias=None):
        return query.filter(state_sql(value if value in STATES else "", utcnow()))

    def operation(self):
        return "is"


class IdFilter(IntEqualFilter):
    """One record by its id (what an audit entry's link opens): a number that fits the key."""

    def validate(self, value):
        return is_db_id(value, self.column.type)
