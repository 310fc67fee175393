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



def test_export_bench_follows_the_job_above_the_threshold(app, database_url):
    """Above the job threshold the export answers with the job's page: the bench follows the
    job to its stored file (it failed with `AssertionError: 302` at 1M) and counts every row;
    below it, the job path refuses to measure the download instead."""
    seed(30, 1, progress=False)

    def bench(*args):
        return subprocess.run([sys.executable, "-m", "bench.export_bench", database_url, *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin"})

    result = bench("--path", "job", "--job-threshold", "10")
    assert result.returncode == 0, result.stderr
    assert {"export_path=job", "export_rows=30"} <= set(result.stdout.splitlines())
    below = bench("--path", "job", "--job-threshold", "100")
    assert below.returncode != 0
    assert "expected the job page" in below.stderr


def test_the_export_bench_counts_a_record_whose_line_end_is_split_between_two_reads():
    from bench.export_bench import records
    stream = b"Name\r\nAda,\"a\nb\"\r\nBob\r\n"
    for cut in range(len(stream) + 1):
        assert records(iter([stream[:cut], stream[cut:]])) == (3, len(stream)), cut
