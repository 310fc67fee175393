"""bench/ is a package: its modules run with `python -m` from the top directory, no path edits."""
import subprocess
import sys

from sqlalchemy import select

from admin_app import ROOT
from admin_app.seed import seed
from models import AuditEvent, db


def test_export_bench_runs_as_a_module_and_its_export_is_audited(app, database_url):
    seed(30, 1, progress=False)
    result = subprocess.run([sys.executable, "-m", "bench.export_bench", database_url],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "export_rows=30" in result.stdout.splitlines()
    db.session.expire_all()
    [entry] = db.session.scalars(select(AuditEvent)).all()
    assert (entry.actor_email, entry.action, entry.after) == (
        "bench-finance@memberdesk.local", "customers.export", {"scope": "all", "rows": 30})

