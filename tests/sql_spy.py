"""Record the SQL statements the app runs, to count them or look for unbounded counts."""
from contextlib import contextmanager

from sqlalchemy import event

from models import db


@contextmanager
def statements():
    """Yield a list that collects every statement executed inside the block."""
    seen = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
