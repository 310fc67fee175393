"""The mail outbox (MAIL_OUTBOX = a folder): e-mails are kept there, attachments and all,
instead of going to an SMTP server, and owners read them on the Outbox page. For the demo;
real SMTP (MAIL_SERVER…) stays the production path."""
import email
import email.policy
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

from flask import abort, current_app, request, send_file
from flask_admin import BaseView, expose
from io import BytesIO

from actions.errors import EmailFailed
from admin_app.views.base import AccessMixin

PAGE = 50


def outbox_folder(app=None):
    """The outbox folder when MAIL_OUTBOX is set, else None."""
    app = app or current_app
    value = app.config.get("MAIL_OUTBOX")
    if not value:
        return None
    return Path(app.instance_path) / "outbox" if value is True or value in ("1", "true") \
        else Path(value)


def keep_message(folder, message, *, timeout=None, what="the email"):
    """Write a Flask-Mail message to the outbox as an .eml file (what SMTP would carry)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = message.as_bytes()
        name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        tmp = folder / (name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
    except OSError as exc:
        raise EmailFailed(f"The outbox folder {folder} cannot be written ({exc.strerror}); "
                          f"{what} was not kept.") from exc


def messages(folder):
    """[(file name, parsed message)] newest first."""
    if folder is None or not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.glob("*.eml")), reverse=True)[:PAGE]
    return [(name, _parse(folder / name)) for name in names]


def _parse(path):
    with open(path, "rb") as fh:
        return email.message_from_binary_file(fh, policy=email.policy.default)


def summary(message):
    body = message.get_body(preferencelist=("plain", "html"))
    attachments = [(part.get_filename(), part.get_content_type(),
                    len(part.get_payload(decode=True) or b""))
                   for part in message.iter_attachments()]
    return {"to": message["To"], "from": message["From"], "subject": message["Subject"],
            "date": message["Date"], "text": body.get_content() if body else "",
            "attachments": attachments}


class OutboxView(AccessMixin, BaseView):
    """Owners read the e-mails kept in the outbox; hidden when there is none."""

    permission = "manage_admins"

    def is_visible(self):
        return bool(current_app.config.get("MAIL_OUTBOX"))

    @expose("/")
    def index(self):
        folder = outbox_folder()
        found = [(name, summary(message)) for name, message in messages(folder)]
        chosen = request.args.get("open")
        return self.render("memberdesk/outbox.html", messages=found, folder=folder,
                           chosen=chosen)

    @expose("/<path:filename>/<int:index>")
    def attachment(self, filename, index):
        folder = outbox_folder()
        path = (folder / filename) if folder else None
        if path is None or path.name != filename or not filename.endswith(".eml") or \
                not path.is_file():
            abort(404)
        parts = list(_parse(path).iter_attachments())
        if not 0 <= index < len(parts):
            abort(404)
        part = parts[index]
        return send_file(BytesIO(part.get_payload(decode=True) or b""),
                         mimetype=part.get_content_type(), as_attachment=True,
                         download_name=part.get_filename() or f"attachment-{index}")
