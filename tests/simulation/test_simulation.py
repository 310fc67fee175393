"""CI's share of the randomized histories (issue 17): HISTORIES histories of 20 steps on each
database, against the sandbox gateways. The long run is `python -m tests.simulation
--histories 10000 --seed S` (docs/RELIABILITY.md has its figure)."""
import os

import pytest

from tests.simulation.runner import run

HISTORIES = int(os.environ.get("SIMULATION_HISTORIES", 200))
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_randomized_histories_keep_money_and_access_in_step_with_the_gateways(world):
    result = run(HISTORIES, seed=int(os.environ.get("SIMULATION_SEED", 17)), min_steps=20,
                 max_steps=20, world=world)
    assert result.violations == 0, result.report
    assert result.histories >= HISTORIES and result.steps >= 20 * HISTORIES
