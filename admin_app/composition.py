"""The composition point: the one place that turns the Flask app into action collaborators.

Action functions never import current_app; the web layer, the CLI and background jobs build
a Deps here and pass it in.
"""
from functools import partial
from types import MappingProxyType

from flask import current_app, render_template

from actions.filestore import store_for
from actions.deps import Deps
from actions.gateways import get_gateway
from actions.invoice_mail import send_message

#: settings an action may read through deps.setting()
SHARED_SETTINGS = ("SELLER_NAME", "SELLER_ADDRESS", "SELLER_VAT_ID", "SELLER_LOGO",
                   "AVATAR_DIR", "AVATAR_MAX_BYTES")


def deps_from_app(app=None, **overrides):
    """Deps for the current (or given) app; keyword arguments replace single collaborators."""
    app = app or current_app._get_current_object()
    config = app.config
    settings = {key: config.get(key) for key in SHARED_SETTINGS}
    settings["INSTANCE_PATH"] = app.instance_path
    # avatars go through the file store (a folder, or the bucket shared by every host);
    # actions.avatars.save_avatar/delete_avatar take it where they took the folder
    settings["AVATAR_DIR"] = store_for(config, "avatars")
    from admin_app.lists import scope_query
    from admin_app.outbox import keep_message, outbox_folder
    outbox = outbox_folder(app)
    send_mail = partial(keep_message, outbox) if outbox is not None else partial(
        send_message, app.extensions["mail"], timeout=config["MAIL_TIMEOUT"])
    values = dict(
        store_currency=config["STORE_CURRENCY"], locale=config["STORE_LOCALE"],
        timezone=config["STORE_TIMEZONE"],
        gateways=partial(get_gateway, config=config),
        send_mail=send_mail,
        render=render_template, settings=MappingProxyType(settings),
        files=partial(store_for, config, "files"), lists=scope_query)
    values.update(overrides)
    return Deps(**values)
