"""Audit entries, added to the caller's database transaction."""
from models import AuditEvent, db


def record(actor, action, target, *, outcome, before=None, after=None, gateway_ref=None,
           message=None):
    """Add one AuditEvent for `target` (a model instance or a (type, id) pair); no commit."""
    if isinstance(target, tuple):
        target_type, target_id = target
    else:
        target_type, target_id = target.__tablename__, target.id
    event = AuditEvent(
        actor_id=getattr(actor, "id", None), actor_email=getattr(actor, "email", None),
        action=action, target_type=target_type, target_id=target_id, before=before,
        after=after, outcome=outcome, gateway_ref=gateway_ref, message=message)
    db.session.add(event)
    return event


def record_refusal(actor, action, target, *, outcome, message):
    """Audit an operation that was refused or failed before changing anything; commits."""
    db.session.rollback()
    record(actor, action, target, outcome=outcome, message=message)
    db.session.commit()
