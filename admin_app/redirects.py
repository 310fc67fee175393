"""Redirect targets: a path on this site, nothing else (Flask-Admin's `url=` is not enough)."""
# Flask-Admin's is_safe_url() accepts `url=http:evil.example` and rebuilds it into
# `Location: http:///evil.example`, which browsers resolve to that host. Here a target is
# followed only when it is plainly a local path: it starts with one "/", the next character
# is not "/" or "\", and it holds no backslash, no control character and no whitespace
# (browsers drop tabs and newlines, so "/\t/evil" would become "//evil").
from urllib.parse import urlsplit

import flask_admin.actions
import flask_admin.helpers
import flask_admin.model.base
from flask import request


def is_local_path(target):
    """True when `target` can only mean a path on this site."""
    if not target or not isinstance(target, str) or not target.startswith("/"):
        return False
    if target.startswith(("//", "/\\")) or "\\" in target:
        return False
    if any(ch <= " " or ch == "\x7f" or ch.isspace() for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def get_redirect_target(param_name="url"):
    """The `url` argument of the request when it is a local path, else None."""
    target = request.values.get(param_name)
    return target if is_local_path(target) else None


def local_redirect_guard(response):
    """after_request: a redirect off this site (from any code path) goes to the panel instead."""
    if getattr(response, "signed_file_url", False):  # the file store's own bucket link
        return response
    location = response.headers.get("Location") if 300 <= response.status_code < 400 else None
    if location is not None and not is_local_path(_same_site_path(location)):
        response.headers["Location"] = "/admin/"
    return response


def _same_site_path(location):
    """An absolute URL on this very host as its path; anything else unchanged."""
    parts = urlsplit(location)
    if parts.scheme in ("http", "https") and parts.netloc == request.host:
        return location.split(parts.netloc, 1)[1] or "/"
    return location


def init_app(app):
    """Use the strict check in Flask-Admin's views and actions, and guard every response."""
    flask_admin.helpers.get_redirect_target = get_redirect_target
    flask_admin.model.base.get_redirect_target = get_redirect_target
    flask_admin.actions.get_redirect_target = get_redirect_target
    app.after_request(local_redirect_guard)
