"""CI's share of the randomized histories (issue 17): HISTORIES histories of 20 steps on each
database, against the sandbox gateways. The long run is `python -m tests.simulation
--histories 10000 --seed S` (docs/RELIABILITY.md has its figure).

The clocks are frozen and the sandbox's ids seeded (tests/simulation/world.py): a seed gives
the same histories every run, and a failure shrinks (for at most SHRINK_SECONDS) to a
history that replays (`python -m tests.simulation.replay`).

SIMULATION_HISTORIES sets the count (default DEFAULT_HISTORIES, below the issue's 200),
SIMULATION_SEED the seed, SIMULATION_SHRINK_SECONDS the shrinking's limit. IN_CI: run
without being asked. A 20-step history costs about 0.33 s of CPU on SQLite and 0.5 s on
PostgreSQL (its server included; docs/RELIABILITY.md, 2026-12-04): 200 histories are about
1.1 and 1.7 minutes."""
import os

import pytest

from tests.simulation.runner import run

#: histories per database when SIMULATION_HISTORIES does not say. Issue 17 asks 200; at
#: 0.43 s (SQLite) and 0.64 s (PostgreSQL) of CPU a history, 200 a database took 132 s and
#: 173 s of the clean-clone CI run (2026-12-03), the whole suite 20 minutes against the house's
#: "well under 15". 50 a database keep CI near 11 minutes; the count the issue asks is
#: covered by the long runs (docs/RELIABILITY.md). SIMULATION_HISTORIES=200 runs it. At
#: 0.33 s and 0.5 s (2026-12-04) 200 would still cost about 3-4 times what 50 cost before.
DEFAULT_HISTORIES = 50
#: part of every CI run (the violations its runs found on 2026-12-03 are fixed:
#: docs/RELIABILITY.md); False: only when SIMULATION_HISTORIES is set
IN_CI = True
HISTORIES = int(os.environ.get("SIMULATION_HISTORIES", DEFAULT_HISTORIES))
SHRINK_SECONDS = int(os.environ.get("SIMULATION_SHRINK_SECONDS", 120))
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200), pytest.mark.skipif(
    not IN_CI and "SIMULATION_HISTORIES" not in os.environ,
    reason="IN_CI is off; SIMULATION_HISTORIES=200 runs it")]


def test_randomized_histories_keep_money_and_access_in_step_with_the_gateways(world):
    result = run(HISTORIES, seed=int(os.environ.get("SIMULATION_SEED", 17)), min_steps=20,
                 max_steps=20, world=world, shrink_seconds=SHRINK_SECONDS)
    assert result.violations == 0, result.report
    assert result.steps >= 20 * HISTORIES
