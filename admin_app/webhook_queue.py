"""Background processing of webhook events until admin_app.queue (the jobs branch) lands:
the same `enqueue(func, *args)` signature, one worker thread per process, in the app context
of the app that enqueued. Switching to admin_app.queue is the one import in webhooks.py."""
import queue
import threading

from flask import current_app

_jobs = queue.Queue()
_worker = {"thread": None}
_lock = threading.Lock()


def enqueue(func, *args):
    """Run func(*args) soon, after this request, in this process."""
    app = current_app._get_current_object()
    _jobs.put((app, func, args))
    with _lock:
        if _worker["thread"] is None or not _worker["thread"].is_alive():
            _worker["thread"] = threading.Thread(target=_work, name="memberdesk-jobs",
                                                 daemon=True)
            _worker["thread"].start()


def _work():
    while True:
        app, func, args = _jobs.get()
        try:
            with app.app_context():
                func(*args)
        except Exception:  # noqa: BLE001 - a job's failure is its own business; keep working
            app.logger.exception("background job %s failed", getattr(func, "__name__", func))
        finally:
            _jobs.task_done()


def wait_idle():
    """Block until every job enqueued so far has run (tests, the CLI)."""
    _jobs.join()
