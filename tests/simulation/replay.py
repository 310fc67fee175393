"""Replay a history hypothesis printed (`state = Run()` ... `state.teardown()`), printing
what each invariant found instead of raising: python -m tests.simulation.replay FILE."""
import logging
import sys

from tests.simulation import invariants
from tests.simulation.machine import History
from tests.simulation.world import World


def replay(text, world=None):
    """The violations the history leaves (an empty list: none)."""
    world = world or World()

    class Run(History):
        pass
    Run.world, Run.min_steps, Run.max_steps = world, 20, 200
    Run.counts = {"histories": 0, "steps": 0}
    lines = [line.strip() for line in text.splitlines()
             if line.strip().startswith("state")]
    lines = [line for line in lines if not line.startswith("state.teardown")]
    scope = {"Run": Run}
    for line in lines:
        exec(line, scope)  # noqa: S102 - the printed history, run as written
    state = scope["state"]
    return state.problems + invariants.final(world, state)


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    found = replay(open(sys.argv[1]).read())
    print("\n".join(found) or "no violation")
    sys.exit(1 if found else 0)
