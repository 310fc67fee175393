"""Jinja filters: money, dates, countries, cycles, as admins read them."""
from flask import current_app, g, url_for
from markupsafe import Markup

from admin_app.config import gateways_in_sandbox
from models._types import utcnow
from models.country import country_name
from models.dates import format_day, format_moment
from models.money import format_money
from models.sub_state import price_note, showing_next_payment, status_label


def money(cents, currency=None):
    config = current_app.config
    return format_money(cents, currency or config["STORE_CURRENCY"], config["STORE_LOCALE"])


def profile_url(customer_id):
    """url_for('customer.profile_view', customer_id=…, modal=1), with the route built once per
    request rather than once per row: the list pages link every row to its profile."""
    parts = g.get("_profile_url_parts")
    if parts is None:
        parts = g._profile_url_parts = url_for("customer.profile_view", customer_id=0,
                                               modal=1).rsplit("/0/", 1)
    return f"{parts[0]}/{int(customer_id)}/{parts[1]}"


def _store():
    config = current_app.config
    return config["STORE_LOCALE"], config["STORE_TIMEZONE"]


def date(value, fmt=None):
    """20 Dec 2026: the one day format, on the store's calendar (models/dates.py)."""
    return format_day(value, *_store()) if value else ""


def datetime_(value, fmt=None):
    """20 Dec 2026, 6:26 AM: the day format and the store locale's time, store-local."""
    return format_moment(value, *_store()) if value else ""


def subscription_status(sub):
    """'Active — cancels on 20 Dec 2026', 'Cancelled — access until …' (models/access.py)."""
    return status_label(sub, utcnow(), *_store())


def subscription_total(sub):
    """The Total of a subscription: what a cycle costs today, and below it, while a new
    price waits for its renewal, '→ $59.00 from 2 Jan 2027'."""
    total = Markup("{}").format(money(sub.charged_cents, sub.currency))
    note = price_note(sub, money, date)
    if not note:
        return total
    return total + Markup('<div class="small text-muted md-price-next">{}</div>').format(note)


def shows_next_payment(sub):
    return showing_next_payment(sub, utcnow())


def sandbox_time(timestamp):
    from datetime import datetime, timezone
    return datetime_(datetime.fromtimestamp(int(timestamp), timezone.utc))


def init_app(app):
    app.jinja_env.filters.update(money=money, date=date, datetime=datetime_,
                                 country=country_name, subscription_status=subscription_status,
                                 sandbox_time=sandbox_time, shows_next_payment=shows_next_payment,
                                 subscription_total=subscription_total)
    app.jinja_env.globals["profile_url"] = profile_url

    @app.context_processor
    def sandbox_banner():
        """`sandbox_gateways()`: the gateways pointing at a sandbox (the banner's words)."""
        return {"sandbox_gateways": lambda: gateways_in_sandbox(app.config)}
