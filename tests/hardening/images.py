"""Image files made in the tests: a tiny PNG that declares a huge canvas, a small real one."""
import struct
import zlib
from io import BytesIO

from PIL import Image


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width, height):
    """A valid 8-bit greyscale PNG of width × height black pixels, compressed to a few hundred KB.

    Built row by row, so making it needs no more memory than one row.
    """
    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    parts, rows_per_feed = [], max(1, (1 << 20) // len(row))
    for start in range(0, height, rows_per_feed):
        parts.append(packer.compress(row * min(rows_per_feed, height - start)))
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts))
            + _chunk(b"IEND", b""))


def small_image(fmt="PNG", size=(64, 48)):
    buffer = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def inflating_png(chunk=b"zTXt", megabytes=64):
    """A small valid PNG with a compressed text (zTXt) or colour-profile (iCCP) chunk that
    inflates to `megabytes` MB: 95-143 KB on disk, as the probe sent."""
    packer = zlib.compressobj(9)
    block = b"\x00" * (1 << 20)
    payload = b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()
    body = (b"Comment\x00\x00" if chunk == b"zTXt" else b"icc\x00\x00") + payload
    image = small_image()
    iend = image.rindex(b"IEND") - 4
    return image[:33] + _chunk(chunk, body) + image[33:iend] + image[iend:]


def smooth_image(fmt, size, mode="RGB"):
    """A gradient image (compresses well: a 4000 × 4000 JPEG fits in 2 MB)."""
    gradient = Image.linear_gradient("L").resize(size)
    if mode == "L":
        image = gradient
    else:
        image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_90),
                                    gradient))
        image = image.convert(mode)
    buffer = BytesIO()
    image.save(buffer, fmt, **({"quality": 70} if fmt == "JPEG" else {}))
    return buffer.getvalue()
