"""Send one Flask-Mail message with MAIL_TIMEOUT; SMTP failures become EmailFailed."""
import smtplib
from email.charset import QP, SHORTEST, Charset
from email.mime.text import MIMEText

import flask_mail
from flask_mail import BadHeaderError, Connection

from actions.errors import EmailFailed


def _quoted_printable_utf8():
    charset = Charset("utf-8")
    charset.header_encoding, charset.body_encoding = SHORTEST, QP
    return charset


class Message(flask_mail.Message):
    """Flask-Mail's message with quoted-printable text parts: no line too long for SMTP."""

    def _mimetext(self, text, subtype="plain"):
        return MIMEText(text, _subtype=subtype, _charset=_quoted_printable_utf8())


class TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout (Flask-Mail 0.10 has no such setting)."""

    def __init__(self, mail, timeout):
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self):
        """Same steps as Flask-Mail's, with `timeout` passed to smtplib."""
        smtp = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp(self.mail.server, self.mail.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(self.mail.debug))
            if self.mail.use_tls:
                host.starttls()
            if self.mail.username and self.mail.password:
                host.login(self.mail.username, self.mail.password)
        except BaseException:
            host.close()
            raise
        return host


def _reason(exc):
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _refused(code, text, what):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return EmailFailed(f"The mail server refused {what}: {code} {text}; nothing was sent.")


def _quit(host):
    if host is None:
        return
    try:
        host.quit()
    except OSError:  # the message was already accepted; only the goodbye failed
        host.close()


def send_message(state, message, *, timeout, what="the email"):
    """Send `message` through the server of Flask-Mail's `state`; EmailFailed with a message
    an admin can act on. Bound to the app's mail settings in admin_app.composition."""
    where = f"{state.server}:{state.port}"
    connection = TimedConnection(state, timeout)
    try:
        connection.host = None if state.suppress else connection.configure_host()
    except smtplib.SMTPResponseException as exc:
        raise _refused(exc.smtp_code, exc.smtp_error, what) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise EmailFailed(f"The mail server at {where} cannot be used ({_reason(exc)}); "
                          "nothing was sent.") from exc
    except OSError as exc:
        raise EmailFailed(f"The mail server at {where} could not be reached "
                          f"({_reason(exc)}); nothing was sent.") from exc
    try:
        connection.send(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise _refused(code, text, what) from exc
    except smtplib.SMTPResponseException as exc:
        raise _refused(exc.smtp_code, exc.smtp_error, what) from exc
    except BadHeaderError as exc:
        raise EmailFailed("The customer's name or address cannot be used in an email header; "
                          "nothing was sent.") from exc
    except OSError as exc:
        raise EmailFailed(f"The connection to the mail server at {where} broke off "
                          f"({_reason(exc)}); {what} may not have been delivered.") from exc
    finally:
        _quit(connection.host)
