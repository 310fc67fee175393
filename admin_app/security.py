"""Security headers on every response: a nonce-based Content-Security-Policy and friends.

Scripts: only those carrying this response's nonce (`admin_csp_nonce_attribute` in every
template; Flask-Admin's own templates use the same name via Admin(csp_nonce_generator=...)),
plus, through 'strict-dynamic', the scripts those trusted scripts add: the pop-ups are HTML
fragments that jQuery loads and whose <script> blocks it runs. The only inline event handlers
are Flask-Admin's fixed ones (filter menu, bulk-action menu) and its `javascript:void(0)` menu
links, allowed by their exact hashes ('unsafe-hashes'), nothing else.

Styles: 'self' and inline. A pop-up fragment brings its own <style> (the invoice) and is
rendered by a different request than the page it is loaded into, so no nonce could match; CSS
cannot run script, and everything that can stays nonce-bound.
"""
import base64
import hashlib
import secrets

from flask import current_app, g
from markupsafe import Markup

# Inline handlers and javascript: links written by Flask-Admin 2.2's templates
# (model/layout.html, actions.html); the bulk actions' handlers are added per view below.
FLASK_ADMIN_HANDLERS = ("return false;", "javascript:void(0)")
BULK_ACTION_HANDLER = "return modelActions.execute('{}');"


def csp_nonce():
    """This request's nonce (the same for the page and every tag on it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _hash(source):
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def handler_hashes(app):
    """Hashes of the inline handlers the panel's pages may contain, computed once."""
    cached = app.extensions.get("memberdesk_handler_hashes")
    if cached is None:
        handlers = list(FLASK_ADMIN_HANDLERS)
        for admin in app.extensions.get("admin", []):
            for view in admin._views:
                handlers += [BULK_ACTION_HANDLER.format(name)
                             for name, _ in getattr(view, "_actions", None) or ()]
        cached = " ".join(_hash(h) for h in sorted(set(handlers)))
        app.extensions["memberdesk_handler_hashes"] = cached
    return cached


def policy(nonce, hashes):
    return "; ".join([
        "default-src 'self'",
        f"script-src 'nonce-{nonce}' 'strict-dynamic' 'unsafe-hashes' {hashes}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def add_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = policy(csp_nonce(), handler_hashes(current_app))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers without CSP 2
    if response.mimetype in ("text/html", "application/json") and "Cache-Control" not in headers:
        # no admin page or panel data (job status, previews) from a cache after logout
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    app.after_request(add_headers)
    app.context_processor(
        lambda: {"admin_csp_nonce_attribute": Markup(f'nonce="{csp_nonce()}"')})
