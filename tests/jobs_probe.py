"""Module-level functions that queued jobs run in tests (workers import them by path)."""
import os
from pathlib import Path

from flask import current_app


def write_marker(path, text, *, suffix=""):
    """Prove the job ran with its arguments, inside an app context, in which process."""
    Path(path).write_text(f"{text}{suffix}|{current_app.config['RQ_QUEUE']}|{os.getpid()}")
