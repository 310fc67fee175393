"""Brute-force limits on the login form (Flask-Limiter): per client address and per account.

Each app gets its own Limiter (storage, key prefix and limits come from that app's config), so
the counters live in Redis when REDIS_URL is set and several workers share them; in memory
otherwise (one process: the demo, tests).
"""
from flask import render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _account_key():
    """The e-mail the form names, normalised as the login lookup does."""
    return "account:" + request.form.get("email", "").strip().lower()[:254]


def _address_key():
    return "address:" + (get_remote_address() or "unknown")


def _failed(response):
    return response.status_code == 401


def _too_many(error):
    retry = getattr(error, "retry_after", None)
    response = render_template(
        "errors/error.html", code=429,
        message="Too many login attempts. Wait a minute and try again; if you forgot your "
                "password, ask an owner for a new set-password link.")
    return response, 429, ({"Retry-After": str(retry)} if retry else {})


def init_app(app, login_view, **password_views):
    """Attach a Limiter to `app`; limit the login view and the other password forms
    (`endpoint=view` of this blueprint) per address."""
    config = app.config
    storage = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage,
                      key_prefix=config.get("RATELIMIT_KEY_PREFIX", "memberdesk"),
                      strategy="moving-window", headers_enabled=True)
    by_address = limiter.limit(config["LOGIN_LIMIT_PER_ADDRESS"], key_func=_address_key,
                               methods=["POST"])
    # An account is throttled on failed attempts only: its owner can still log in normally.
    by_account = limiter.limit(config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key,
                               methods=["POST"], deduct_when=_failed)
    app.view_functions["auth.login"] = by_address(by_account(login_view))
    for endpoint, view in password_views.items():
        app.view_functions[f"auth.{endpoint}"] = by_address(view)
    app.register_error_handler(429, _too_many)
    app.extensions["memberdesk_limiter"] = limiter  # the limits hold it only weakly
    return limiter
