"""The one permission check every action function makes, whoever calls it."""
from actions.errors import NotAllowed


def require(actor, permission):
    """Raise NotAllowed unless `actor` is an active admin whose role grants `permission`."""
    if actor is None or not getattr(actor, "can", None) or not actor.can(permission):
        role = getattr(actor, "role", None) or "none"
        raise NotAllowed(f"Your role ({role}) does not allow this "
                         f"({permission.replace('_', ' ')}); nothing was changed.")
