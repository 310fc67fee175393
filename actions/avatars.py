"""Avatars: checked by content (not file name), resized, stored outside the code tree."""
import secrets
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP"}
SIZE = (256, 256)


class AvatarError(ValueError):
    """The upload is not an acceptable avatar."""


def read_avatar(stream, max_bytes):
    """Read and check an uploaded image; returns a resized RGB(A) Pillow image."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AvatarError(f"The avatar is larger than {max_bytes // (1024 * 1024)} MB.")
    try:
        with Image.open(BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
        if fmt not in ALLOWED_FORMATS:
            raise AvatarError("The avatar must be a PNG, JPEG or WebP image.")
        image = Image.open(BytesIO(data))
        image = ImageOps.exif_transpose(image)
        image.thumbnail(SIZE)
        return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise AvatarError("The avatar must be a PNG, JPEG or WebP image.") from None


def _store(store):
    """A file store (admin_app.filestore: local folder or bucket); a folder path is a local
    store of that folder."""
    if hasattr(store, "put"):
        return store
    from admin_app.filestore import LocalStore
    return LocalStore(Path(store))


def save_avatar(image, store, customer_id):
    """Write the image as WebP under a fresh random name into the store; returns the name."""
    name = f"{customer_id}-{secrets.token_hex(8)}.webp"
    buffer = BytesIO()
    image.save(buffer, "WEBP", quality=85)
    _store(store).put(name, buffer.getvalue())
    return name


def delete_avatar(store, name):
    if name:
        _store(store).delete(name)
