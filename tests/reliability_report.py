"""Regenerate docs/RELIABILITY.md from a real run of the hardening tests.

    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python -m tests.reliability_report

Runs the tests that count into the report (both database legs when TEST_DATABASE_URL is set)
and writes each area's count and result. Extra arguments go to pytest. Exits with pytest's
status: a failing test still writes the report, marked FAILED.
"""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/hardening", "tests/unit/test_input_properties.py",
         "tests/unit/test_avatar_limits.py",
         "tests/integration/test_login_throttle.py::test_strangers_cannot_lock_the_owner_out"]
COMMAND = "python -m tests.reliability_report"


class _Command:
    def pytest_configure(self, config):
        config._reliability_command = COMMAND


def main(argv):
    report = ROOT / "docs" / "RELIABILITY.md"
    args = [*(str(ROOT / t) for t in TESTS), "-q", "-p", "no:cacheprovider",
            f"--reliability-report={report}", *argv]
    status = pytest.main(args, plugins=[_Command()])
    print(f"wrote {report.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
