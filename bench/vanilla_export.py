"""Only the baseline's CSV export, for a separate process under /usr/bin/time -v."""
import sys
import time
from pathlib import Path

from bench.baseline import load

# Prints export_rows=, export_s=, export_rows_per_s=, export_cpu_s=, export_rows_per_cpu_s=
# (as bench.export_bench does).
USAGE = "usage: python -m bench.vanilla_export PATH/vanilla_admin.py DATABASE_URL"


def main():
    if len(sys.argv) != 3:
        raise SystemExit(USAGE)
    vanilla = load(Path(sys.argv[1]))
    client = vanilla.make_app(sys.argv[2]).test_client()
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get("/admin/customer/export/csv/", buffered=False)
    assert response.status_code == 200, response.status_code
    lines = sum(chunk.count(b"\n") for chunk in response.iter_encoded())
    response.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = lines - 1
    print(f"export_rows={rows}")
    print(f"export_s={seconds:.2f}")
    print(f"export_rows_per_s={rows / seconds:.0f}")
    print(f"export_cpu_s={cpu:.2f}")
    print(f"export_rows_per_cpu_s={rows / max(cpu, 1e-6):.0f}")


if __name__ == "__main__":
    main()
