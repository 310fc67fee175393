"""Error pages: no stack trace and no bare 500 for anything an admin can do."""
from flask import render_template
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: "The request could not be understood.",
    403: "Your role does not allow this page.",
    404: "There is nothing here. The record may have been deleted, or the address is wrong.",
    405: "This address does not accept that kind of request.",
    413: "The upload is too large.",
    500: "Something went wrong on our side. Nothing was changed; the error was logged.",
}


def _page(code, message=None):
    return render_template("errors/error.html", code=code,
                           message=message or MESSAGES.get(code, "")), code


def init_app(app):
    for code in MESSAGES:
        app.register_error_handler(code, lambda e, code=code: _page(code))
    app.register_error_handler(CSRFError, lambda e: _page(
        400, "This form has expired or did not come from Memberdesk. "
             "Reload the page and try again; nothing was changed."))
