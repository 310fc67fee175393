"""Configuration from environment variables, then an optional instance/memberdesk.cfg."""
import os
import secrets
from pathlib import Path

from models.dates import store_zone

DEFAULTS = {
    "STORE_CURRENCY": "USD",
    "STORE_LOCALE": "en_US",
    # IANA zone of the store's calendar: days shown, filtered and chosen are local days
    "STORE_TIMEZONE": "UTC",
    # Home's counts of the moment (past due, renewals, access ending) are recounted when
    # older than this, or by `flask metrics refresh` (docs/METRICS.md, docs/PERFORMANCE.md)
    "METRICS_LIVE_SECONDS": 60,
    "SELLER_NAME": "Memberdesk Demo Academy",
    "SELLER_ADDRESS": "1 Example Street, Springfield, US",
    "SELLER_VAT_ID": "",
    "SELLER_LOGO": "",
    "STRIPE_API_KEY": "",
    "STRIPE_API_BASE": "",
    "STRIPE_TIMEOUT": 10,
    "STRIPE_MAX_RETRIES": 2,
    "PAYPAL_CLIENT_ID": "",
    "PAYPAL_CLIENT_SECRET": "",
    "PAYPAL_API_BASE": "https://api-m.paypal.com",
    "PAYPAL_TIMEOUT": 10,
    "PAYPAL_MAX_RETRIES": 2,
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "billing@memberdesk.invalid",
    "MAIL_TIMEOUT": 10,
    "MAIL_OUTBOX": "",  # a folder (or "1": instance/outbox): keep e-mails there, send none
    "SANDBOX_URL": "",  # set by `flask demo`: the gateway sandbox (banner, Sandbox page)
    "CLOCK_OFFSET": 0,  # seconds the business clock runs ahead (the demo's sandbox clock)
    "AVATAR_DIR": "",
    "AVATAR_MAX_BYTES": 2 * 1024 * 1024,
    "AVATAR_MAX_PIXELS": 4000 * 4000,  # width × height; refused from the header, not decoded
    "DB_POOL_SIZE": 5,
    "DB_MAX_OVERFLOW": 5,
    "DB_POOL_TIMEOUT": 10,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "MEMBERDESK_ENV": "development",
    "AUTO_MIGRATE_SQLITE": True,
    "COOKIE_SECURE": "auto",  # auto: secure cookies in production (HTTPS), not elsewhere
    "TRUST_PROXY_HEADERS": 0,  # number of reverse proxies whose X-Forwarded-* to trust
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "STRIPE_WEBHOOK_SECRET": "",
    "STRIPE_WEBHOOK_TOLERANCE": 300,  # seconds; the SDK's default
    "PAYPAL_WEBHOOK_ID": "",
    "PAYPAL_WEBHOOK_TOLERANCE": 300,  # seconds between PayPal's transmission time and ours
    "WEBHOOK_MAX_BYTES": 256 * 1024,
    "WEBHOOK_MAX_ATTEMPTS": 6,  # then "failed" (re-process from the Webhook events page)
    "WEBHOOK_RETRY_DELAY": 30.0,  # seconds before the first retry (scheduled, not slept) ...
    "WEBHOOK_RETRY_FACTOR": 4.0,  # ... times this at each retry: 30 s, 2 min, 8 min, 32 min, 2 h
    "WEBHOOK_BATCH": 200,  # events applied per transaction (a savepoint each)
    "WEBHOOK_LANE_LOCK_SECONDS": 30.0,  # a dead worker's lane of events is free after this
    "SYNC_RATE_LIMIT": 20,  # gateway requests per second during `flask sync`
    "SYNC_PAGE_SIZE": 100,  # objects per list page (Stripe's largest)
    "REDIS_URL": "",  # set: RQ workers run background jobs, login limits shared by all workers
    "RQ_QUEUE": "memberdesk",
    "JOB_TIMEOUT": 6 * 3600,  # seconds an RQ worker may spend on one job
    "STRIPE_RATE_LIMIT": 20.0,  # requests/s a job sends to Stripe (docs: 25 test, 100 live)
    "PAYPAL_RATE_LIMIT": 10.0,  # requests/s to PayPal (no published number)
    "RATE_LIMIT_PREFIX": "memberdesk:ratelimit",
    "EXPORT_JOB_THRESHOLD": 50_000,  # larger exports run as a job writing a file
    "JOB_LEASE_SECONDS": 60,
    "JOB_CHUNK_ROWS": 200,  # on RQ a bigger job is split into chunks of this many rows
    "FILE_STORE": "local",  # "s3": avatars and job files in S3_BUCKET instead of folders
    "FILE_STORE_DIR": "",  # local folder for job output files (default instance/files)
    "S3_BUCKET": "",
    "S3_ENDPOINT_URL": "",  # an S3-compatible server (MinIO, Ceph, ...); empty: AWS
    "S3_REGION": "",  # a job whose runner is silent this long is resumed elsewhere
    "SESSION_IDLE_MINUTES": 30,  # a login session ends after this long without a request
    "SESSION_MAX_HOURS": 12,  # ... and this long after the login, active or not
    "LOGIN_LIMIT_PER_ADDRESS": "30 per minute;300 per hour",  # login POSTs per client address
    # failed logins of one e-mail from one address; past them that address waits
    "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": "5 per minute;20 per hour",
    # failed logins of one e-mail from all addresses; holds back only addresses that failed
    # for it (the owner, from an address without failures, still logs in)
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per minute;50 per hour",
    "RATELIMIT_KEY_PREFIX": "memberdesk",
    "PASSWORD_LINK_HOURS": 72,  # how long an invitation / set-password link works
}


def _coerce(default, raw):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, int):
        return int(raw)
    return raw


def load_config(app, test_config=None):
    """Fill app.config: defaults < instance/memberdesk.cfg < instance/sandbox.cfg (the demo)
    < environment < test_config."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("memberdesk.cfg", silent=True)
    # written by a running `flask demo` (removed when it stops): its gateway sandbox and
    # outbox, so that other commands (`flask sync`) reach the same sandbox
    if not (test_config or {}).get("TESTING"):  # a test never reaches a developer's demo
        app.config.from_pyfile("sandbox.cfg", silent=True)
    for key, default in DEFAULTS.items():
        if key in os.environ:
            app.config[key] = _coerce(default, os.environ[key])
    for key in ("SECRET_KEY", "DATABASE_URL"):
        if key in os.environ:
            app.config[key] = os.environ[key]
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{instance / 'memberdesk.db'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["AVATAR_DIR"] = app.config["AVATAR_DIR"] or str(instance / "avatars")
    app.config["FILE_STORE_DIR"] = app.config["FILE_STORE_DIR"] or str(instance / "files")
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {
            "pool_size": app.config["DB_POOL_SIZE"],
            "max_overflow": app.config["DB_MAX_OVERFLOW"],
            "pool_timeout": app.config["DB_POOL_TIMEOUT"],
            "pool_pre_ping": True,
            # No server-side prepared statements: every query is planned with its own
            # parameter values (the customer search relies on it, see customer_search.py).
            **({"connect_args": {"prepare_threshold": None}}
               if app.config["DATABASE_URL"].startswith("postgresql+psycopg") else {}),
        })
    try:
        store_zone(app.config["STORE_TIMEZONE"])
    except ValueError as exc:
        raise SystemExit(f"Memberdesk: {exc}") from None
    production = app.config["MEMBERDESK_ENV"] == "production"
    secure = app.config["COOKIE_SECURE"]
    secure = production if secure == "auto" else _coerce(True, str(secure))
    app.config.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure,
                      REMEMBER_COOKIE_HTTPONLY=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _development_secret(app, instance)


def _development_secret(app, instance):
    """Outside production, generate a secret once and keep it in the instance folder."""
    if app.config["MEMBERDESK_ENV"] == "production":
        raise SystemExit("Memberdesk: SECRET_KEY is not set; production needs one "
                         "(environment variable or instance/memberdesk.cfg).")
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def gateways_in_sandbox(config):
    """Labels of the gateways whose base URL is the sandbox's ("Stripe", "PayPal")."""
    url = config.get("SANDBOX_URL")
    if not url:
        return []
    return [label for label, key in (("Stripe", "STRIPE_API_BASE"),
                                     ("PayPal", "PAYPAL_API_BASE"))
            if str(config.get(key) or "").startswith(url)]
