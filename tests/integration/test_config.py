"""Production configuration: secure cookies, trusted proxy headers."""
from werkzeug.middleware.proxy_fix import ProxyFix

from admin_app import create_app


def test_production_cookies_are_secure_and_proxy_headers_trusted_on_request(tmp_path):
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "k",
            "SKIP_DB_CHECK": True, "MEMBERDESK_ENV": "production"}
    app = create_app(dict(base, TRUST_PROXY_HEADERS=1))
    assert isinstance(app.wsgi_app, ProxyFix)
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert not create_app(dict(base, COOKIE_SECURE="0")).config["SESSION_COOKIE_SECURE"]
