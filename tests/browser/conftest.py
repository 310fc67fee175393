"""Browser fixtures: the test app served on loopback, one Debian Chromium per session."""
import os
import threading

import pytest
from werkzeug.serving import make_server

from models import db
from tests.conftest import PASSWORD, make_admin

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
TIMEOUT_MS = 5000
# What a failing expectation waits for before it fails (a passing one returns at once): room for
# a busy CI machine, where a page that answers in 50 ms alone can take seconds.
EXPECT_TIMEOUT_MS = 15000


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, launched once; skipped when it or Playwright is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="browser tests need the playwright package")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live_server(app, database_url):
    """The `app` fixture's app (SQLite leg only) served by werkzeug in a thread; its base URL.

    Data the test creates must be committed before the browser asks for it: the server's
    request threads use their own sessions and connections.
    """
    if not database_url.startswith("sqlite"):
        pytest.skip("browser tests run on the SQLite leg only")
    # Flask 3.1 answers 127.0.0.1:<port> even with SERVER_NAME="localhost", but external URLs
    # would then name localhost:80; without it every link is built from the Host header.
    app.config["SERVER_NAME"] = None
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (own cookies) and page with 5 s timeouts; base URL = the app."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()


def browser_login(page, role="owner"):
    """Create an admin of `role` and log in through the login form; returns the user.

    Logging in lands on Home; the tests then start from the Customers list."""
    user = make_admin(role)
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto("/admin/customer/")
    return user
