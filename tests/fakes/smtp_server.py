"""A real SMTP server (aiosmtpd) on a free 127.0.0.1 port that keeps what it receives."""
import email
import socket
from dataclasses import dataclass
from email import policy

import pytest
from aiosmtpd.controller import Controller

from admin_app.extensions import mail


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope, the bytes as sent and the parsed EmailMessage."""

    mail_from: str
    rcpt_tos: list
    raw: bytes
    message: email.message.EmailMessage


class SMTPHandler:
    """Accepts every message unless told to refuse recipients; `on_data()` runs at DATA."""

    def __init__(self):
        self.messages = []
        self.refusal = None
        self.on_data = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusal:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.on_data:
            self.on_data()
        raw = envelope.original_content
        parsed = email.message_from_bytes(raw, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed))
        return "250 Message accepted for delivery"


class LoopbackController(Controller):
    """aiosmtpd's Controller, listening on the port the OS picked (port=0)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SMTPServer:
    """What a test sees: host, port, the messages received, and `refuse()`."""

    def __init__(self, controller):
        self.host, self.port = controller.hostname, controller.port
        self.handler = controller.handler

    @property
    def messages(self):
        return self.handler.messages

    def refuse(self, reply="550 5.1.1 Mailbox unavailable"):
        """Reject every recipient with `reply` from now on."""
        self.handler.refusal = reply

    def while_receiving(self, callback):
        """Call `callback()` (in the server's thread) while a message is being received."""
        self.handler.on_data = callback


def point_mail_at(app, host, port):
    """Make the app's Flask-Mail really send, to host:port."""
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_SUPPRESS_SEND=False,
                      MAIL_USE_TLS=False, MAIL_USE_SSL=False)
    mail.init_app(app)


def closed_port():
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_controller():
    controller = LoopbackController(SMTPHandler(), hostname="127.0.0.1", port=0)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp_server(app, _smtp_controller):
    """The SMTP server, emptied, with the app's mail pointed at it."""
    _smtp_controller.handler.messages.clear()
    _smtp_controller.handler.refusal = None
    _smtp_controller.handler.on_data = None
    point_mail_at(app, _smtp_controller.hostname, _smtp_controller.port)
    return SMTPServer(_smtp_controller)
