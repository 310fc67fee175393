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


# What one upload may cost the process while it is decoded (issue 20: under 64 MB). JPEG is
# decoded reduced (Pillow's draft: the DCT scales by 1/2, 1/4 or 1/8 while decoding), so any
# JPEG within MAX_PIXELS fits. PNG and WebP are decoded whole: their pixel count is capped so
# that the decoded image (Pillow keeps RGB as 4 bytes a pixel) stays within the budget; libwebp
# needs about four times the decoded size while it works (measured: 65 MB for 2000 × 2000).
DECODE_BUDGET = 32 * 1024 * 1024
WHOLE_DECODE_FACTOR = {"PNG": 1, "WEBP": 4}


def _decoded_bytes(image):
    per_pixel = 1 if image.mode in ("1", "L", "P") else 4
    return image.size[0] * image.size[1] * per_pixel * WHOLE_DECODE_FACTOR.get(image.format, 1)


def read_avatar(stream, max_bytes, max_pixels=MAX_PIXELS):
    """Read and check an uploaded image; returns a resized RGB(A) Pillow image.

    The header is read first: a format other than PNG/JPEG/WebP or more than `max_pixels`
    pixels is refused before a single pixel is decoded (a small file can declare 13000×13000).
    JPEG is decoded reduced (draft); PNG and WebP, decoded whole, also within DECODE_BUDGET.
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
        if fmt == "JPEG":
            image.draft(image.mode if image.mode in ("L", "RGB") else None,
                        (SIZE[0] * 2, SIZE[1] * 2))
        if _decoded_bytes(image) > DECODE_BUDGET:
            raise AvatarError(_too_large_to_decode(image, width, height))
        orientation = image.getexif().get(0x0112)
        image.thumbnail(SIZE)  # decodes (reduced for JPEG), then shrinks with reduce()
        if orientation:  # turn only the small image (exif_transpose of the full one copies it)
            image.getexif()[0x0112] = orientation
            image = ImageOps.exif_transpose(image)
        return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except Image.DecompressionBombError:
        raise AvatarError(_too_large(max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # ValueError: a text or colour-profile chunk that inflates past Pillow's limit
        if isinstance(exc, AvatarError):
            raise
        raise AvatarError("The avatar must be a PNG, JPEG or WebP image (this file could "
                          "not be read within the limits).") from None


def _too_large_to_decode(image, width, height):
    per_pixel = _decoded_bytes(image) / (width * height)
    most = int(DECODE_BUDGET / per_pixel)
    side = int(most ** 0.5)
    return (f"The avatar is {width:,} × {height:,} pixels; {image.format} images are read "
            f"whole, so they are accepted up to {most:,} pixels (e.g. {side:,} × {side:,}). "
            "Make it smaller, or upload it as a JPEG.")


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
