"""Regenerate the README's screenshots in docs/screenshots/: `python -m tests.browser.screenshots`.

Runs tests/browser/test_screenshots.py (Playwright + Debian's Chromium, the SQLite leg) with
MEMBERDESK_SCREENSHOTS pointing at docs/screenshots/; extra arguments go to pytest.
"""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "docs" / "screenshots"


def main(args=()):
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["MEMBERDESK_SCREENSHOTS"] = str(OUT)
    os.environ.pop("TEST_DATABASE_URL", None)  # pictures need one database, not two
    status = pytest.main([str(HERE / "test_screenshots.py"), "-q", "-p", "no:cacheprovider",
                          *args])
    if status == 0:
        print(f"Screenshots written to {OUT}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
