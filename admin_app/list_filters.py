"""List filters of our own: whole store-local days on the timestamp columns (aware UTC
datetimes), "access ends within N days" on subscriptions, one record by id, and the
customers list's subscription status, country and lifetime value range."""
from datetime import date

import pycountry
from flask import current_app
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, IntEqualFilter

from admin_app.input_guard import is_db_id
from models import Customer, Subscription
from models._types import utcnow
from models.country import country_name
from models.money import parse_amount
from sqlalchemy import select
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


class SubscriptionStateFilter(BaseSQLAFilter):
    """Customers with a subscription in a state: the Subscriptions list's Status values
    (models/sub_state.py), answered per customer through ix_subscription_customer."""

    def __init__(self, column, name):
        super().__init__(column, name, options=list(STATES.items()))

    def apply(self, query, value, alias=None):
        has = (select(Subscription.id)
               .where(Subscription.customer_id == Customer.id,
                      state_sql(value if value in STATES else "", utcnow()))
               .exists())
        return query.filter(has)

    def operation(self):
        return "has one that is"


class CountryFilter(BaseSQLAFilter):
    """Country, by its pycountry name (ix_customer_country: country, then newest first)."""

    def __init__(self, column, name):
        super().__init__(column, name, options=sorted(
            ((c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries),
            key=lambda option: option[1]))

    def validate(self, value):
        return pycountry.countries.get(alpha_2=value) is not None if value else False

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) == value)

    def operation(self):
        return "is"


class AmountFilter(BaseSQLAFilter):
    """An amount in the store currency (the project's money parser: '1,250.00' in the store
    locale -> integer minor units) compared with a stored minor-units column: at least / at
    most. The column's (value, id) index serves either bound."""

    def __init__(self, column, name, at_most=False):
        super().__init__(column, name)
        self.at_most = at_most

    def problem(self, value):
        """Why `value` is not an amount in the store currency, or None."""
        config = current_app.config
        try:
            parse_amount(value, config["STORE_CURRENCY"], config["STORE_LOCALE"])
        except ValueError as exc:
            return str(exc)
        return None

    def validate(self, value):
        return self.problem(value) is None

    def clean(self, value):
        config = current_app.config
        return parse_amount(value, config["STORE_CURRENCY"], config["STORE_LOCALE"])

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column <= value if self.at_most else column >= value)

    def operation(self):
        return "at most" if self.at_most else "at least"
