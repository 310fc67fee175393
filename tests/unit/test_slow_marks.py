"""A test that starts worker processes (an RQ worker, gunicorn, a job runner it kills) is
marked `slow` (tests/pytest.ini), so that `-m "not slow"` leaves out every test that waits on
another process. One-shot commands (`subprocess.run`) are not counted."""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
STARTS_PROCESSES = {"start_worker", "Popen", "killpg"}
#: tests that start a process without waiting on it, and why
NOT_WAITING = {
    "actions/test_subscriptions.py::"
    "test_a_change_whose_sender_was_killed_is_finished_at_once_by_the_next_request":
        "runs `true` only for the pid of a process that is gone",
}


def _called(node):
    return {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", None)
            for n in ast.walk(node) if isinstance(n, ast.Call)}


def starting_processes():
    """{test id: marked slow?} for every test that starts processes, itself or through the
    module's helpers it calls."""
    found = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_slow = any(
            isinstance(node, ast.Assign) and "slow" in ast.unparse(node.value)
            and any(getattr(t, "id", None) == "pytestmark" for t in node.targets)
            for node in tree.body)
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        calls = {name: _called(node) for name, node in functions.items()}
        for name, node in functions.items():
            if not name.startswith("test_"):
                continue
            reach, todo = set(), [name]
            while todo:
                for called in calls.get(todo.pop(), set()) - reach:
                    reach.add(called)
                    todo.append(called)
            if reach & STARTS_PROCESSES:
                found[f"{path.relative_to(TESTS)}::{name}"] = module_slow or any(
                    "slow" in ast.unparse(d) for d in node.decorator_list)
    return found


def test_every_test_that_starts_worker_processes_is_marked_slow():
    found = starting_processes()
    assert [test for test, slow in found.items() if not slow and test not in NOT_WAITING] == []


def test_the_check_sees_processes_started_through_a_helper():
    found = starting_processes()
    assert found["integration/test_job_crash.py::"
                 "test_in_process_worker_killed_mid_job_and_restarted_refunds_each_payment_once"]
    assert set(NOT_WAITING) <= set(found)
