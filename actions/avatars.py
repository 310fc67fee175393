"""Avatars: checked by content (not file name), resized, stored outside the code tree."""
import secrets
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from actions.filestore import LocalStore

ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP"}
SIZE = (256, 256)
MAX_PIXELS = 4000 * 4000  # default for AVATAR_MAX_PIXELS
# Pillow's own decompression-bomb limit (it refuses at twice this): a cap on the decoder for
# every image this process opens, whatever the caller's limit.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class AvatarError(ValueError):
    """The upload is not an acceptable avatar."""


def read_avatar(stream, max_bytes, max_pixels=MAX_PIXELS):
    """Read and check an uploaded image; returns a resized RGB(A) Pillow image.

    The header is read first: a format other than PNG/JPEG/WebP or more than `max_pixels`
    pixels is refused before a single pixel is decoded (a small file can declare 13000×13000).
    """
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AvatarError(f"The avatar is larger than {max_bytes // (1024 * 1024)} MB.")
    try:
        with Image.open(BytesIO(data)) as probe:  # reads the header only
            fmt, (width, height) = probe.format, probe.size
            if fmt not in ALLOWED_FORMATS:
                raise AvatarError("The avatar must be a PNG, JPEG or WebP image.")
            _check_pixels(width, height, max_pixels)
            probe.verify()
        image = Image.open(BytesIO(data))
        image = ImageOps.exif_transpose(image)
        image.thumbnail(SIZE)
        return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except Image.DecompressionBombError:
        raise AvatarError(_too_large(max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise AvatarError("The avatar must be a PNG, JPEG or WebP image.") from None


def _check_pixels(width, height, max_pixels):
    if width * height > max_pixels:
        raise AvatarError(f"The avatar is {width:,} × {height:,} pixels; "
                          + _too_large(max_pixels))


def _too_large(max_pixels):
    side = int(max_pixels ** 0.5)
    return (f"images up to {max_pixels:,} pixels (e.g. {side:,} × {side:,}) are accepted. "
            "Make it smaller and upload it again.")


def _store(store):
    """A file store (actions/filestore.py: local folder or bucket); a folder path is a local
    store of that folder."""
    if hasattr(store, "put"):
        return store
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
