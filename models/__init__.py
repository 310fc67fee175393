"""SQLAlchemy models. Amounts are integer minor units plus an ISO 4217 currency code."""
from sqlalchemy import event
from sqlalchemy.orm import Session

from models.base import db
from models.admin_user import AdminUser, ROLES
from models.affiliate import Affiliate
from models.audit import AuditEvent
from models.customer import Customer
from models.customer_note import NOTE_MAX_LENGTH, CustomerNote
from models.installation import Installation
from models.job import Job, JobChunk, JobRow
from models.metrics import MetricsDay, MetricsLive, MetricsTouch, MrrSpan
from models.subscription import Plan, Subscription
from models.subscription_change import SubscriptionChange
from models.transaction import Refund, Transaction
from models.webhook import Dispute, SyncState, WebhookEvent
from models.mrr import keep_ledger

# The MRR ledger follows every flush of every session (models/mrr.py), whoever writes.
event.listen(Session, "after_flush", keep_ledger)

__all__ = ["db", "AdminUser", "ROLES", "Affiliate", "AuditEvent", "Customer", "CustomerNote",
           "NOTE_MAX_LENGTH", "Installation", "Job", "JobChunk", "JobRow", "MetricsDay",
           "MetricsLive", "MetricsTouch", "MrrSpan",
           "Plan", "Subscription", "SubscriptionChange", "Refund", "Transaction", "Dispute",
           "SyncState", "WebhookEvent"]
