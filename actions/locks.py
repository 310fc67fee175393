"""Row locks: the one way an action takes the row it changes (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers on its own)."""
from sqlalchemy import select

from actions.errors import InvalidRequest
from models import Transaction, db


def lock(model, row_id, missing_message):
    """The row `row_id` of `model`, locked until commit and read fresh; InvalidRequest if gone."""
    row = db.session.execute(select(model).where(model.id == row_id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise InvalidRequest(missing_message)
    return row


def lock_transaction(tx_id):
    return lock(Transaction, tx_id, "This payment no longer exists.")
