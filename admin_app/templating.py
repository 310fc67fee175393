"""Jinja filters: money, dates, countries, cycles, as admins read them."""
import pycountry
from babel.dates import format_date, format_datetime
from flask import current_app

from models.money import format_money


def country_name(code):
    """'DE' -> 'Germany'; unknown codes are shown as they are."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", code)


def money(cents, currency=None):
    config = current_app.config
    return format_money(cents, currency or config["STORE_CURRENCY"], config["STORE_LOCALE"])


def date(value, fmt="medium"):
    return format_date(value, fmt, locale=current_app.config["STORE_LOCALE"]) if value else ""


def datetime_(value, fmt="medium"):
    return format_datetime(value, fmt, locale=current_app.config["STORE_LOCALE"]) if value else ""


def init_app(app):
    app.jinja_env.filters.update(money=money, date=date, datetime=datetime_,
                                 country=country_name)
