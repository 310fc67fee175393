"""An avatar chosen on an Edit customer form that was refused for another field: kept in the
file store under a random token, shown again with the form, saved with it next time."""
import re
import secrets
from io import BytesIO

from admin_app.filestore import avatar_store

TOKEN_RE = re.compile(r"[0-9a-f]{32}")


def _key(customer_id, token):
    if not TOKEN_RE.fullmatch(token or ""):
        raise ValueError("not a pending avatar token")
    return f"pending/{int(customer_id)}-{token}.webp"


def keep(image, customer_id):
    """Store the checked, resized image (lossless: it is encoded again when saved); its token."""
    token = secrets.token_hex(16)
    buffer = BytesIO()
    image.save(buffer, "WEBP", lossless=True)
    avatar_store().put(_key(customer_id, token), buffer.getvalue())
    return token


def open_kept(customer_id, token):
    """The kept image file of this customer's form; FileNotFoundError when there is none."""
    try:
        key = _key(customer_id, token)
    except ValueError:
        raise FileNotFoundError(token) from None
    return avatar_store().open(key)


def drop(customer_id, token):
    try:
        avatar_store().delete(_key(customer_id, token))
    except (ValueError, FileNotFoundError):
        pass
