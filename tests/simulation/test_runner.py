"""The runner on a violation: it stops shrinking after its time limit, still prints the
shortest history found, and that history replays (the clocks are frozen, the ids seeded)."""
import time

import pytest

from tests.simulation import invariants
from tests.simulation.replay import replay
from tests.simulation.runner import run

pytestmark = [pytest.mark.slow]


def test_a_violation_is_shrunk_for_at_most_the_limit_and_its_history_replays(world,
                                                                           monkeypatch):
    final = invariants.final

    def planted(world, machine):  # a "violation" in every history with a refund in it
        found = final(world, machine)
        return found + ["planted: a refund was asked for"] * any(
            line.startswith("state.refund(") for line in machine.log)
    monkeypatch.setattr(invariants, "final", planted)

    started = time.monotonic()
    result = run(30, seed=3, min_steps=20, max_steps=20, world=world, shrink_seconds=5)
    took = time.monotonic() - started

    assert result.violations == 1 and "planted: a refund was asked for" in result.report
    history = [line for line in result.report.splitlines() if line.startswith("state")]
    assert history[0] == "state = Run()" and history[-1] == "state.teardown()"
    assert any(line.startswith("state.refund(") for line in history)
    assert took < 5 + 60, took  # the limit, and the histories run before and after it
    assert "planted: a refund was asked for" in replay("\n".join(history), world)
