"""Brute-force limits on the login form (Flask-Limiter and its `limits` counters): per client
address, per (account, address), and per account.

- Every login POST of an address counts against LOGIN_LIMIT_PER_ADDRESS (all accounts).
- Failed logins of one e-mail from one address count against LOGIN_LIMIT_PER_ACCOUNT_ADDRESS;
  past it that address gets 429 for that e-mail, even with the right password.
- Failed logins of one e-mail from all addresses count against the slower
  LOGIN_LIMIT_PER_ACCOUNT, which holds back only addresses that have failed for that e-mail
  themselves: strangers guessing from many addresses cannot lock the owner out, who logs in
  from an address without failures.

Each app gets its own Limiter (storage, key prefix and limits come from that app's config), so
the counters live in Redis when REDIS_URL is set and several workers share them; in memory
otherwise (one process: the demo, tests).
"""
from functools import wraps

from flask import make_response, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many


def _account():
    """The e-mail the form names, normalised as the login lookup does."""
    return request.form.get("email", "").strip().lower()[:254]


def _address_key():
    return "address:" + (get_remote_address() or "unknown")


def _too_many(error=None):
    retry = getattr(error, "retry_after", None)
    response = render_template(
        "errors/error.html", code=429,
        message="Too many login attempts. Wait a minute and try again; if you forgot your "
                "password, ask an owner for a new set-password link.")
    return response, 429, ({"Retry-After": str(retry)} if retry else {})


class FailedLogins:
    """The counters of failed logins: per (account, address) and per account."""

    def __init__(self, limiter, config):
        self.limiter = limiter
        self.prefix = config.get("RATELIMIT_KEY_PREFIX", "memberdesk")
        self.pair_limits = parse_many(config["LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"])
        self.account_limits = parse_many(config["LOGIN_LIMIT_PER_ACCOUNT"])

    def _keys(self, account, address):
        return ((self.pair_limits, (self.prefix, "login-failed-pair", account, address)),
                (self.account_limits, (self.prefix, "login-failed-account", account)))

    def retry_after(self, account, address):
        """Seconds to wait when this address may not try this account now, else None."""
        strategy = self.limiter.limiter
        (pair, pair_key), (whole, account_key) = self._keys(account, address)
        blocked = [limit for limit in pair if not strategy.test(limit, *pair_key)]
        clean = all(strategy.get_window_stats(limit, *pair_key).remaining >= limit.amount
                    for limit in pair)
        if not clean:  # this address has failed for this account: the account limit applies
            blocked += [limit for limit in whole if not strategy.test(limit, *account_key)]
        if not blocked:
            return None
        return max(limit.get_expiry() for limit in blocked)

    def failed(self, account, address):
        strategy = self.limiter.limiter
        for limits, key in self._keys(account, address):
            for limit in limits:
                strategy.hit(limit, *key)


def _guard_failed_logins(view, counters):
    @wraps(view)
    def guarded(*args, **kwargs):
        if request.method != "POST" or not counters.limiter.enabled:
            return view(*args, **kwargs)
        account, address = _account(), get_remote_address() or "unknown"
        retry = counters.retry_after(account, address)
        if retry is not None:
            return _too_many(type("Limited", (), {"retry_after": retry})())
        response = make_response(view(*args, **kwargs))
        if response.status_code == 401:
            counters.failed(account, address)
        return response
    return guarded


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
    counters = FailedLogins(limiter, config)
    app.view_functions["auth.login"] = by_address(_guard_failed_logins(login_view, counters))
    for endpoint, view in password_views.items():
        app.view_functions[f"auth.{endpoint}"] = by_address(view)
    app.register_error_handler(429, _too_many)
    app.extensions["memberdesk_limiter"] = limiter  # the limits hold it only weakly
    return limiter
