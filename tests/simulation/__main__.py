"""python -m tests.simulation --histories N --seed S [--database URL] [--min-steps 20]
[--max-steps 200] [--shrink-seconds 300]

Runs N randomized histories against the sandbox gateways and prints
`N histories, M steps, V violations`; on a violation, the shortest failing history hypothesis
shrank it to, and exits 1."""
import argparse
import logging
import os
import subprocess
import sys
import time

from tests.simulation.runner import run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.simulation", description=__doc__)
    parser.add_argument("--histories", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database", default=os.environ.get("SIMULATION_DATABASE_URL"),
                        help="SQLAlchemy URL (default: a new SQLite file); PostgreSQL: "
                             "the database is emptied first")
    parser.add_argument("--min-steps", type=int, default=20)
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--progress", type=int, default=0,
                        help="print a line every this many histories")
    parser.add_argument("--keep-going", action="store_true",
                        help="count every violating history (no shrinking) instead of "
                             "stopping at the first and shrinking it")
    parser.add_argument("--shrink-seconds", type=int, default=300,
                        help="stop shrinking a violation after this long and print the "
                             "shortest history found so far")
    parser.add_argument("--record", metavar="PATH",
                        help="write the figure into PATH's “Randomized histories” section "
                             "(docs/RELIABILITY.md)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    commit = _commit()  # the code this run tests (the tree may change while it runs)
    started = time.monotonic()
    result = run(args.histories, args.seed, database_url=args.database,
                 min_steps=args.min_steps, max_steps=args.max_steps, progress=args.progress,
                 keep_going=args.keep_going, shrink=not args.keep_going,
                 shrink_seconds=args.shrink_seconds)
    seconds = time.monotonic() - started
    print(f"{result.histories} histories, {result.steps} steps, "
          f"{result.violations} violations")
    print(f"seed {args.seed}, steps per history {args.min_steps}-{args.max_steps}, "
          f"{seconds:.0f} s")
    if args.record:
        record(args.record, result, args, seconds, commit)
    if result.violations:
        print(("\nViolations by kind:\n" if args.keep_going else
               "\nThe shortest failing history:\n") + result.report)
        return 1
    return 0


def _commit():
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return commit + (" (+ changes)" if dirty else "")


def record(path, result, args, seconds, commit):
    """Replace the “Randomized histories” section of `path` with this run's figure."""
    from datetime import datetime, timezone
    from pathlib import Path

    from tests.reliability import SIMULATION_HEADING
    database = (args.database or "sqlite").split(":", 1)[0].split("+", 1)[0]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join([
        SIMULATION_HEADING, "",
        f"Written by `python -m tests.simulation --histories {args.histories} --seed "
        f"{args.seed} --min-steps {args.min_steps} --max-steps {args.max_steps}"
        f"{' --keep-going' if args.keep_going else ''} --record "
        f"{path}` on {when}. Each history: {args.min_steps}-{args.max_steps} steps of panel "
        "actions, gateway events, delivery faults and clock moves against the sandbox's "
        "Stripe and PayPal (tests/simulation), then the final delivery, the nightly sync, a "
        "worker restart and the invariants (access every simulated day; lifetime values, "
        "refunded totals, one gateway object per intent, commissions, nothing stuck, "
        "`sync --dry-run` with 0 differences).", "",
        "| histories | steps | violations | seed | database | duration | commit |",
        "| ---: | ---: | ---: | ---: | --- | ---: | --- |",
        f"| {result.histories:,} | {result.steps:,} | {result.violations} | {args.seed} | "
        f"{database} | {seconds / 60:.0f} min | {commit} |",
        ""])
    if result.violations:
        section += ("\nViolations by kind:\n\n```\n" if args.keep_going else
                    "\nThe shortest failing history:\n\n```\n") + result.report.strip() + \
            "\n```\n"
    file = Path(path)
    text = file.read_text(encoding="utf-8") if file.exists() else ""
    if SIMULATION_HEADING in text:
        text = text[:text.index(SIMULATION_HEADING)]
    file.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
