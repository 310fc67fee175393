"""The collaborators an action function is given instead of reaching for the Flask app."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from models._types import utcnow
from models.dates import day_start, format_day
from models.money import format_money


def _no_mail(message, *, what="the email"):
    raise RuntimeError("no mail sender was given to this action")


def _no_render(template, **context):
    raise RuntimeError("no template renderer was given to this action")


def _no_files():
    raise RuntimeError("no file store was given to this action")


def _no_lists(scope):
    raise RuntimeError("no list definitions were given to this action")


@dataclass(frozen=True)
class Deps:
    """Settings and services for one call of an action function.

    `gateways(name)` returns the adapter for "stripe" or "paypal" (GatewayNotConfigured when
    it has no credentials); `clock()` is an aware UTC now; `send_mail(message, what=...)`
    sends an email or raises EmailFailed; `render(template, **context)` renders a template
    (invoices); `files()` is the file store for export files (actions/filestore.py);
    `settings` holds the other read-only settings (seller, instance path); `lists(scope)` is
    the query of a list's rows for a job scope {"view", "search", "filters"} (the web layer's
    list definitions: its filters are Flask-Admin's).
    """

    store_currency: str
    gateways: Callable[[str], Any]
    locale: str = "en_US"
    timezone: str = "UTC"  # the store's IANA zone: days shown and chosen are local days
    clock: Callable[[], datetime] = utcnow
    send_mail: Callable[..., None] = _no_mail
    render: Callable[..., str] = _no_render
    settings: Mapping = field(default_factory=lambda: MappingProxyType({}))
    files: Callable[[], Any] = _no_files
    lists: Callable[[dict], Any] = _no_lists

    def money(self, cents, currency=None):
        """Minor units as the admin reads them: '$1,234.50' in the store locale."""
        return format_money(cents, currency or self.store_currency, self.locale)

    def day(self, when):
        """20 Dec 2026: the store-local day of a timestamp, in the store locale."""
        return format_day(when, self.locale, self.timezone)

    def day_start(self, day):
        """The aware UTC instant a store-local calendar day begins."""
        return day_start(day, self.timezone)

    def setting(self, key, default=""):
        value = self.settings.get(key, default)
        return default if value is None else value
