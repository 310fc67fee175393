"""Starting the sandbox for the demo and for `flask sandbox serve`, and reaching a running
one from `flask sandbox advance|decline|dispute|decide` (instance/sandbox.json says where)."""
import json
from pathlib import Path

import requests

from sandbox.times import DAY
from sandbox.server import Server

STATE_FILE = "sandbox.json"
SETTINGS_FILE = "sandbox.cfg"


def state_path(app):
    return Path(app.instance_path) / STATE_FILE


def start_for_app(app, panel_url, port=0, progress=None):
    """Start a sandbox, mirror the app's database into it, point the app's adapters, webhooks
    and mail at it; returns the Server. The clock starts where the last demo left it."""
    from models import db
    from models._types import set_clock_offset
    from sandbox.mirror import mirror
    server = Server(port=port).start()
    app.config.update(server.config(panel_url=panel_url), SANDBOX_URL=server.url)
    app.config.update(STRIPE_MAX_RETRIES=1, PAYPAL_MAX_RETRIES=1)
    path = state_path(app)
    saved = _read(path)
    server.sandbox.offset = int(saved.get("offset", 0))
    set_clock_offset(server.sandbox.offset)

    settings = {**server.config(), "SANDBOX_URL": server.url,
                "MAIL_OUTBOX": app.config.get("MAIL_OUTBOX") or "1"}
    cfg = server.settings_file = Path(app.instance_path) / SETTINGS_FILE

    def remember(offset):
        """Every process of this demo (`flask sync`…) reads the same clock and sandbox."""
        set_clock_offset(offset)
        app.config["CLOCK_OFFSET"] = offset
        _write(path, {"url": server.url, "offset": offset})
        cfg.write_text("# Written by `flask demo` while its sandbox runs; removed when it "
                       "stops.\n" + "".join(f"{key} = {value!r}\n" for key, value in
                                            {**settings, "CLOCK_OFFSET": offset}.items()))
    server.sandbox.clock_listeners.append(remember)
    remember(server.sandbox.offset)
    with app.app_context():
        counts = mirror(server.sandbox, db.session, progress)
        db.session.remove()
    server.counts = counts
    return server


def stop_for_app(server):
    """The demo stops: its settings no longer point anywhere."""
    try:
        server.settings_file.unlink()
    except (AttributeError, OSError):
        pass
    server.stop()


def _read(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def running_url(app, url=None):
    """The URL of the sandbox a demo started (or `url`); ClickException-worthy ValueError."""
    url = url or _read(state_path(app)).get("url")
    if not url:
        raise ValueError("No sandbox is running: start the demo (`flask --app wsgi demo`) "
                         "or `flask --app wsgi sandbox serve` first.")
    return url


def control(url, path, body=None, timeout=180):
    try:
        response = requests.post(f"{url}/_sandbox{path}", json=body, timeout=timeout) \
            if body is not None else requests.get(f"{url}/_sandbox{path}", timeout=10)
    except requests.RequestException as exc:
        raise ValueError(f"The sandbox at {url} does not answer ({type(exc).__name__}); is "
                         "the demo still running?") from None
    data = response.json()
    if not response.ok:
        raise ValueError(data.get("error") or f"HTTP {response.status_code}")
    return data


def advance(url, days):
    return control(url, "/advance", {"days": days})


__all__ = ["DAY", "Server", "advance", "control", "running_url", "start_for_app"]
