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


def save_avatar(image, directory, customer_id):
    """Write the image as WebP under a fresh random name; returns the file name."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{customer_id}-{secrets.token_hex(8)}.webp"
    image.save(directory / name, "WEBP", quality=85)
    return name


def delete_avatar(directory, name):
    if name:
        (Path(directory) / name).unlink(missing_ok=True)
