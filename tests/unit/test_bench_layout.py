"""bench/ is a package run with `python -m bench.run`: no module edits the import path."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_sources_do_not_edit_the_import_path():
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "bench").rglob("*.py")
                 if "sys.path" in path.read_text(encoding="utf-8")]
    assert offenders == []
    assert (ROOT / "bench" / "__init__.py").is_file()
    assert (ROOT / "admin_app" / "seed" / "__init__.py").is_file()  # the demo data, used by bench
