"""Row locks: the one way an action takes the row it changes (SELECT ... FOR UPDATE on
PostgreSQL; on SQLite, which has no row locks, the database's one write lock)."""
from sqlalchemy import select

from actions.errors import InvalidRequest
from models import Transaction, db


def lock(model, row_id, missing_message):
    """The row `row_id` of `model`, locked until commit and read fresh; InvalidRequest if gone."""
    _take_sqlite_write_lock()
    row = db.session.execute(select(model).where(model.id == row_id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise InvalidRequest(missing_message)
    return row


def _take_sqlite_write_lock():
    """SQLite ignores FOR UPDATE, and its driver opens a transaction only at the first write:
    two requests could both read "$50 left" and both refund $20 three times over. BEGIN
    IMMEDIATE takes the write lock before the row is read, so the checks that follow see what
    the previous writer committed and the next writer waits for our commit (busy timeout)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if not driver.in_transaction:  # in one already: its first write took the lock
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_transaction(tx_id):
    return lock(Transaction, tx_id, "This payment no longer exists.")
