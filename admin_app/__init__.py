"""The Memberdesk web application: create_app() wires config, extensions and views."""
import os
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from admin_app.config import load_config
from admin_app.migrating import upgrade_quietly
from admin_app.extensions import csrf, db, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config=None):
    """Build the app; test_config overrides environment and instance configuration."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"),
                instance_path=os.environ.get("MEMBERDESK_INSTANCE_PATH")
                or str(ROOT / "instance"))
    load_config(app, test_config)
    from models._types import set_clock_offset
    set_clock_offset(int(app.config.get("CLOCK_OFFSET") or 0))
    from models.mrr import set_store_currency
    set_store_currency(app.config["STORE_CURRENCY"])  # the MRR ledger converts into it
    if app.config["TRUST_PROXY_HEADERS"]:
        hops = app.config["TRUST_PROXY_HEADERS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                    compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to open Memberdesk."
    mail.init_app(app)
    csrf.init_app(app)

    from admin_app import (auth, cli, errors, input_guard, queue, security, templating, views,
                           webhooks)
    input_guard.init_app(app)  # first: its int converter must exist before any route
    from models.admin_user import use_cheap_hashing
    use_cheap_hashing(bool(app.config.get("TESTING")))
    queue.init_app(app)
    from admin_app import jobs_cli
    jobs_cli.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    app.register_blueprint(webhooks.bp)
    # Browsers ask for /favicon.ico on every page; the icon lives in admin_app/static.
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: app.send_static_file("favicon.ico"))
    errors.init_app(app)
    templating.init_app(app)
    views.init_app(app)
    cli.init_app(app)

    if not app.config.get("TESTING") and not app.config.get("SKIP_DB_CHECK"):
        check_database(app)
        if app.config["DATABASE_URL"].startswith("sqlite") and app.config["AUTO_MIGRATE_SQLITE"]:
            with app.app_context():
                upgrade_quietly()  # the embedded demo database follows the code
    return app


def check_database(app):
    """Fail at startup with one clear line when the database cannot be reached."""
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            url = db.engine.url.render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            print(f"Memberdesk cannot reach the database at {url}: {reason}", file=sys.stderr)
            raise SystemExit(1) from None
        db.engine.dispose()  # no pooled connection is inherited by forked workers
