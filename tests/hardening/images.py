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
