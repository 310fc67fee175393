"""Input every request must pass before any view sees it: no NUL bytes, ids and pages in range."""
from flask import request
from sqlalchemy import BigInteger
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from admin_app.errors import _page

MAX_BIGINT = 2 ** 63 - 1  # primary keys are signed 64-bit (32-bit for the small tables)
MAX_INT = 2 ** 31 - 1
MAX_LIST_OFFSET = 10 ** 8  # rows skipped by the deepest list page that can be asked for


class BadInput(BadRequest):
    """A 400 whose description is shown to the admin as it is."""


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route: a number past 64 bits is no id (404), not a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_BIGINT)
        super().__init__(map, *args, **kwargs)


class SmallIdConverter(BoundedIntConverter):
    """`<smallid:...>`: the id of a 32-bit primary key (admin users, plans, affiliates)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def refuse_nul_bytes():
    """before_request: a NUL byte in any argument or form field is refused before any work.

    Webhook bodies are left alone: their endpoints read the raw bytes under their own size
    limit and verify the signature over them."""
    forms = () if request.blueprint == "webhooks" else (request.form,)
    for values in (request.args, *forms):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise BadInput("The request contains a NUL character (\\0), which no name, "
                               "search or filter can hold. Remove it and try again; nothing "
                               "was changed.")


def is_db_id(value, column_type=None):
    """True when `value` is a plain decimal id that fits the primary key column."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return False
    wide = column_type is None or isinstance(column_type, BigInteger)
    return int(text) <= (MAX_BIGINT if wide else MAX_INT)


def page_number(value, page_size, what="page"):
    """A list page from the URL (0-based), or BadInput when it cannot exist."""
    if value is None:
        return 0
    if value < 0 or value * max(page_size or 1, 1) > MAX_LIST_OFFSET:
        raise BadInput(f"There is no {what} {value}: pages go from 0 up to "
                       f"{MAX_LIST_OFFSET // max(page_size or 1, 1):,}.")
    return value


def init_app(app):
    """Call before any route is added (the int converter is read when a rule is added)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["smallid"] = SmallIdConverter
    app.before_request(refuse_nul_bytes)
    app.register_error_handler(BadInput, lambda e: _page(400, e.description))
