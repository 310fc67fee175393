"""Jinja filters: money, dates, countries, cycles, as admins read them."""
from collections import OrderedDict

from flask import current_app, g, request, url_for
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.filters import do_tojson
from markupsafe import Markup, escape

from admin_app.config import gateways_in_sandbox
from admin_app.menu import main_menu
from models.country import country_name
from models.dates import format_day, format_moment
from models.money import format_money
from models.sub_state import price_note, showing_next_payment, shown_at, status_label


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


_SITE_CACHE_SIZE = 4096


def site_cached(key, build):
    """build() -- addresses from url_for, cut where the per-row or per-link values go --
    once per app (its routes) for each key on this site: url_for depends on the request
    only through the site root, the host and (for a ".endpoint") the blueprint. A list page
    built the same dozen addresses at every request (issue 22)."""
    cache = current_app.extensions.setdefault("memberdesk_url_parts", {})
    full = (request.script_root, request.host, request.blueprint, key)
    found = cache.get(full)
    if found is None:
        if len(cache) >= _SITE_CACHE_SIZE:
            cache.clear()
        found = cache[full] = build()
    return found


def _row_url_parts(endpoint, values):
    """(head, tail): url_for(endpoint, obj_id=<id>, **values) is head + str(id) + tail; ()
    when obj_id is not a path segment of the route. Built once per request for each endpoint
    and values."""
    cache = g.setdefault("_row_urls", {})
    key = (endpoint, tuple(sorted(values.items())))
    parts = cache.get(key)
    if parts is None:
        def build():
            path, mark, query = url_for(endpoint, obj_id=0, **values).partition("?")
            head, found, tail = path.rpartition("/0/")
            return (head + "/", "/" + tail + mark + query) if found else ()
        parts = cache[key] = site_cached(("row", key), build)
    return parts


def row_url(endpoint, obj_id, **values):
    """url_for(endpoint, obj_id=obj_id, **values), the route built once per request for each
    endpoint and values, the id put in per row: a list's row actions (4 a row) each carry
    the list's own address as `url`, and building and quoting it was a third of a
    transactions page (issue 22)."""
    parts = _row_url_parts(endpoint, values)
    if not parts:  # obj_id is not a path segment of this route
        return url_for(endpoint, obj_id=obj_id, **values)
    return f"{parts[0]}{int(obj_id)}{parts[1]}"


# %-formatted with escaped values: Markup.format (a Python string.Formatter) cost more than
# the rest of a button (issue 22)
_ACTION_LINK = ('<a class="btn btn-sm btn-outline-%s"\n'
                '     data-toggle="modal" data-target="#fa_modal_window" title="%s"\n'
                '     data-action="%s"\n'
                '     href="%s">\n'
                '    <span class="fa %s" aria-hidden="true"></span>%s</a>')
_NO_LINK = Markup("")


def _link_parts(action, endpoint, return_url, icon_only):
    """(head, tail): an action's button for the object of id N is head + str(N) + tail (its
    markup and its address, escaped, around the id); None where the id is not in the path.
    Written once per request for each action, endpoint, return address and style."""
    cache = g.setdefault("_md_action_links", {})
    key = (id(action), endpoint, return_url, icon_only)
    found = cache.get(key)
    if found is None or found[0] is not action:
        parts = _row_url_parts(endpoint, {"action_name": action.name, "url": return_url,
                                          "modal": 1})
        title = escape(action.title)
        label = f'<span class="sr-only">{title}</span>' if icon_only else f" {title}"
        html = _ACTION_LINK % ("danger" if action.danger else "secondary", title,
                               escape(action.name), "\0", escape(action.icon), label)
        head, tail = html.split("\0")
        found = cache[key] = (action, (f"{head}{escape(parts[0])}", f"{escape(parts[1])}{tail}")
                              if parts else None)
    return found[1]


def action_link(action, endpoint, obj, return_url, icon_only=False, allowed=None):
    """An action's button for one payment or subscription (its pop-up), or "" where the
    admin's role or the object's state rules it out: `memberdesk.action_link` in the
    templates. `allowed`: the role's answer, when the caller asked once for a whole page
    (a list asks once per action, not once per row: issue 22)."""
    if allowed is None:
        allowed = current_user.can(action.permission)
    if not (allowed and action.available(obj)):
        return _NO_LINK
    parts = _link_parts(action, endpoint, return_url, icon_only)
    if parts is None:
        title = escape(action.title)
        label = f'<span class="sr-only">{title}</span>' if icon_only else f" {title}"
        return Markup(_ACTION_LINK % (
            "danger" if action.danger else "secondary", title, escape(action.name),
            escape(row_url(endpoint, obj.id, action_name=action.name, url=return_url,
                           modal=1)),
            escape(action.icon), label))
    return Markup(f"{parts[0]}{int(obj.id)}{parts[1]}")


def action_links(action, endpoint, return_url, icon_only=False, allowed=None):
    """action_link for the rows of one page: obj -> its button, the role asked and the
    markup written once (a list's row actions, the profile's payments and subscriptions)."""
    if allowed is None:
        allowed = current_user.can(action.permission)
    if not allowed:
        return lambda obj: _NO_LINK
    parts, available = _link_parts(action, endpoint, return_url, icon_only), action.available
    if parts is None:
        return lambda obj: action_link(action, endpoint, obj, return_url, icon_only, True)
    head, tail = parts

    def link(obj):
        return Markup(f"{head}{int(obj.id)}{tail}") if available(obj) else _NO_LINK
    return link


class JsonOnce(OrderedDict):
    """A mapping that never changes once built, whose `tojson` is written once and reused
    (see `tojson` below): Flask-Admin's filter groups, which it builds when the view is set
    up but serialises on every list page (the customers' Country filter lists every country:
    6 KB of JSON, 0.3 ms a page; issue 22)."""

    _json = None


@pass_eval_context
def tojson(eval_ctx, value, indent=None):
    """Jinja's tojson; a JsonOnce's JSON written at its first page and reused."""
    if isinstance(value, JsonOnce) and indent is None:
        if value._json is None:
            value._json = do_tojson(eval_ctx, value)
        return value._json
    return do_tojson(eval_ctx, value, indent)


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
    return status_label(sub, shown_at(), *_store())


def subscription_total(sub):
    """The Total of a subscription: what a cycle costs today, and below it, while a new
    price waits for its renewal, '→ $59.00 from 2 Jan 2027'."""
    total = escape(money(sub.charged_cents, sub.currency))  # escape(): Markup.format is slow
    note = price_note(sub, money, date)
    if not note:
        return total
    return Markup(f'{total}<div class="small text-muted md-price-next">{escape(note)}</div>')


def shows_next_payment(sub):
    return showing_next_payment(sub, shown_at())


def sandbox_time(timestamp):
    from datetime import datetime, timezone
    return datetime_(datetime.fromtimestamp(int(timestamp), timezone.utc))


def init_app(app):
    app.jinja_env.filters.update(money=money, date=date, datetime=datetime_,
                                 country=country_name, subscription_status=subscription_status,
                                 sandbox_time=sandbox_time, shows_next_payment=shows_next_payment,
                                 subscription_total=subscription_total, tojson=tojson)
    app.jinja_env.globals.update(profile_url=profile_url, row_url=row_url,
                                 action_link_html=action_link, md_main_menu=main_menu)

    @app.context_processor
    def sandbox_banner():
        """`sandbox_gateways()`: the gateways pointing at a sandbox (the banner's words)."""
        return {"sandbox_gateways": lambda: gateways_in_sandbox(app.config)}
