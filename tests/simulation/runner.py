"""Running the histories: N examples of the History state machine under one seed, on one
world (app + database + sandbox) reused by every history."""
import contextlib
from collections import Counter
import io
import traceback
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as with_seed
from hypothesis.stateful import get_state_machine_test

from tests.simulation.machine import History
from tests.simulation.world import World


@dataclass
class Result:
    histories: int
    steps: int
    violations: int
    report: str = ""


#: how long hypothesis may shrink a failing history (seconds, by default): then it stops
#: and prints the shortest history it found so far
SHRINK_SECONDS = 120


def run(histories, seed, *, database_url=None, min_steps=20, max_steps=200, progress=0,
        world=None, shrink=True, keep_going=False, shrink_seconds=SHRINK_SECONDS):
    """Run `histories` histories; a violation stops the run after hypothesis shrank it (for
    at most `shrink_seconds`)."""
    if not 20 <= min_steps <= max_steps <= 200:
        raise ValueError("steps per history: 20 <= min <= max <= 200")
    own = world is None
    world = world or World(database_url)
    counts = {"histories": 0, "steps": 0}

    class Run(History):
        pass
    Run.world, Run.min_steps, Run.max_steps, Run.counts = world, min_steps, max_steps, counts
    Run.progress, Run.keep_going, Run.failures = progress, keep_going, []
    test = get_state_machine_test(Run, settings=settings(
        max_examples=histories, stateful_step_count=max_steps + 1, deadline=None,
        database=None, derandomize=False, suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink) if shrink else (Phase.generate,), verbosity=Verbosity.normal,
        report_multiple_bugs=False, print_blob=False), _min_steps=min_steps + 1)
    test = with_seed(seed)(test)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), shrinking_for(shrink_seconds):
            test()
    except Exception as e:  # noqa: BLE001 - the violation, with the history that shows it
        generated = Run.generated or counts["histories"]
        report = out.getvalue() + "".join(traceback.format_exception_only(type(e), e))
        return Result(generated, Run.generated_steps or counts["steps"], 1, report)
    finally:
        if own:
            world.close()
    if Run.failures:
        kinds = Counter(_kind(problems[0]) for problems in Run.failures)
        report = "\n".join(f"{n} × {kind}" for kind, n in kinds.most_common()) + \
            "\n\nThe first one in full:\n" + "\n".join(Run.failures[0])
        return Result(counts["histories"], counts["steps"], len(Run.failures), report)
    return Result(counts["histories"], counts["steps"], 0)


@contextlib.contextmanager
def shrinking_for(seconds):
    """Hypothesis stops shrinking after `seconds` (its own limit is five minutes, and has no
    setting: the engine's constant, set for the run and put back)."""
    from hypothesis.internal.conjecture import engine
    before = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if before is None:  # another hypothesis: its own limit stands
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = before


def _kind(problem):
    """A violation's kind: its sentence without the step, the dates and the references."""
    import re
    text = re.sub(r"^step \d+: ", "", problem)
    text = re.sub(r"\b(sub|ch|pi|re|dp|cus)_\w+|\bI-\w+|\b[0-9A-Z]{13,17}\b|"
                  r"\d{4}-\d\d-\d\d[ T][\d:.+]+|\d+", "#", text)
    return text[:160]
