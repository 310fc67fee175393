"""SQLAlchemy models. Amounts are integer minor units plus an ISO 4217 currency code."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
db = SQLAlchemy(metadata=MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}))

from models.admin_user import AdminUser, ROLES  # noqa: E402
from models.affiliate import Affiliate  # noqa: E402
from models.audit import AuditEvent  # noqa: E402
from models.customer import Customer  # noqa: E402
from models.installation import Installation  # noqa: E402
from models.job import Job, JobRow  # noqa: E402
from models.subscription import Plan, Subscription  # noqa: E402
from models.subscription_change import SubscriptionChange  # noqa: E402
from models.transaction import Refund, Transaction  # noqa: E402
from models.webhook import Dispute, SyncState, WebhookEvent  # noqa: E402

__all__ = ["db", "AdminUser", "ROLES", "Affiliate", "AuditEvent", "Customer", "Installation",
           "Job", "JobRow",
           "Plan", "Subscription", "SubscriptionChange", "Refund", "Transaction", "Dispute",
           "SyncState", "WebhookEvent"]
