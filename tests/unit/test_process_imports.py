"""What a process loads at start: a PDF renderer only when a PDF is made."""
import subprocess
import sys

from admin_app import ROOT

PROBE = """
import sys
from admin_app import create_app
create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "probe", "SKIP_DB_CHECK": True,
            "AUTO_MIGRATE_SQLITE": False})
print(sorted(m for m in ("xhtml2pdf", "reportlab", "pypdf") if m in sys.modules))
"""


def test_the_app_starts_without_the_pdf_renderer():
    """xhtml2pdf with reportlab and pypdf is about 36 MB of memory in every web, job and
    command-line process (the export's peak RSS goal is 150 MB): imported at the first PDF."""
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
