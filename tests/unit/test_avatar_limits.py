"""Avatar uploads: the pixel count is checked from the header before anything is decoded."""
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest

from actions.avatars import AvatarError, read_avatar
from tests.hardening.images import bomb_png, small_image

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


def _read(data, max_pixels=None):
    if max_pixels is None:  # the default limit, 4000 × 4000
        return read_avatar(BytesIO(data), 2 * MB)
    return read_avatar(BytesIO(data), 2 * MB, max_pixels)


def test_a_small_file_declaring_13000_by_13000_pixels_is_refused_from_its_header(reliability):
    data = bomb_png(13000, 13000)
    assert len(data) < 2 * MB
    with pytest.raises(AvatarError, match="13,000 × 13,000 pixels|up to 16,000,000 pixels"):
        _read(data)
    reliability.count("uploads")


@pytest.mark.parametrize("size", [(4001, 4000), (4000, 4001), (16001, 1000), (1, 16000001)])
def test_just_over_the_default_limit_is_refused(size, reliability):
    with pytest.raises(AvatarError, match="16,000,000 pixels"):
        _read(bomb_png(*size))
    reliability.count("uploads")


def test_the_limit_is_configurable_and_images_within_it_are_accepted():
    assert _read(bomb_png(100, 100), max_pixels=100 * 100).size == (100, 100)
    with pytest.raises(AvatarError, match="10,000 pixels"):
        _read(bomb_png(101, 100), max_pixels=100 * 100)
    assert _read(small_image("PNG")).size == (64, 48)
    assert _read(small_image("JPEG")).size == (64, 48)
    assert _read(small_image("WEBP")).size == (64, 48)


@pytest.mark.parametrize("data, message", [
    (small_image("GIF"), "PNG, JPEG or WebP"), (b"not an image at all", "PNG, JPEG or WebP"),
    (bomb_png(50, 50)[:60], "PNG, JPEG or WebP"), (b"\x89PNG" + b"\x00" * (3 * MB), "2 MB"),
])
def test_the_other_checks_stay(data, message, reliability):
    with pytest.raises(AvatarError, match=message):
        _read(data)
    reliability.count("uploads")


MEASURE = """
import resource, sys
from io import BytesIO
sys.path.insert(0, {root!r})
from tests.hardening.images import bomb_png
from actions.avatars import AvatarError, read_avatar
data = bomb_png({side}, {side})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_avatar(BytesIO(data), 2 * 1024 * 1024)
except AvatarError:
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_memory_stays_flat_while_refusing_a_decompression_bomb(reliability):
    """In a fresh process: the peak resident size (getrusage ru_maxrss, KB on Linux) grows by
    less than 20 MB while the upload is refused (it grew by ~170 MB before the header check)."""
    script = MEASURE.format(root=str(ROOT), side=13000)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    grown_kb = int(out.strip().splitlines()[-1])
    assert grown_kb < 20 * 1024, f"peak RSS grew by {grown_kb // 1024} MB"
    reliability.count("uploads")
