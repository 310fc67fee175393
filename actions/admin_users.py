"""Admin users: log in and out, invite, change role, deactivate, end sessions, set a password.

Every function checks its own permission and rules (an owner cannot demote or deactivate the
last active owner), locks the row it changes, writes one audit entry and commits once. Mail
goes out after the commit (`mail_password_link`).
"""
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from actions import audit
from actions.errors import InvalidRequest, NotAllowed
from actions.invoice_mail import Message
from actions.locks import lock
from actions.permissions import require
from models import AdminUser, ROLES, db
from models.admin_user import (MIN_PASSWORD_LENGTH, hasher, new_token, token_digest,
                               verify_dummy_password)

PERMISSION = "manage_admins"


def _require(actor, action, target):
    """permissions.require(actor, "manage_admins"), with the refusal audited."""
    try:
        require(actor, PERMISSION)
    except NotAllowed as exc:
        audit.record_refusal(actor, action, target, outcome="denied", message=exc.message)
        exc.audited = True
        raise


#: special-use names of private networks that an admin's address may end in (email-validator
#: refuses them all, as not globally deliverable): admins are the store's own staff, and
#: their mail goes through the store's own relay
PRIVATE_DOMAINS = ("local", "localhost", "test")


def admin_email(text):
    """An admin user's e-mail address, normalised and lower-cased; InvalidRequest says why not.

    One rule for the panel's invitation and `flask create-admin`: email-validator's syntax
    rules (no DNS lookup), except that a private-network domain (memberdesk.local, localhost,
    *.test) is accepted. Those are what a self-hosted team's internal addresses use, and the
    set-password link is shown on screen as well as mailed. The check stays the library's:
    the private suffix is validated as its reserved test domain (`test_environment=True`,
    the library's own switch for such names), so the rest of the address is checked as usual.
    """
    text = (text or "").strip()
    local, at, domain = text.rpartition("@")
    labels = domain.lower().rstrip(".").split(".")
    suffix = next((name for name in PRIVATE_DOMAINS if labels[-1] == name), None)
    probe = f"{local}@{'.'.join(labels[:-1] + ['test'])}" if at and suffix else text
    try:
        checked = validate_email(probe, check_deliverability=False,
                                 test_environment=bool(suffix))
    except EmailNotValidError as exc:
        raise InvalidRequest(f"That e-mail address cannot be used: {exc}") from None
    if suffix:
        host = checked.domain.rpartition("test")[0] + suffix
        return f"{checked.local_part}@{host}".lower()
    return checked.normalized.lower()


def _locked_user(user_id):
    return lock(AdminUser, user_id, "There is no such admin user; nothing was changed.")


def _by_email(email):
    return db.session.scalar(
        select(AdminUser).where(func.lower(AdminUser.email) == email.strip().lower()))


def _other_active_owners(user):
    """Ids of the other active owners, locked so two owners cannot demote each other at once."""
    query = (select(AdminUser.id).where(AdminUser.role == "owner", AdminUser.active.is_(True),
                                        AdminUser.id != user.id).with_for_update())
    return db.session.scalars(query).all()


def _keep_an_owner(user, action):
    if user.role == "owner" and user.active and not _other_active_owners(user):
        raise InvalidRequest(f"{user.email} is the last active owner: {action} would leave "
                             "nobody to manage admin users. Make someone else owner first; "
                             "nothing was changed.")


def authenticate(email, password, *, address):
    """The active user with this e-mail and password, or None; both outcomes are audited.

    An unknown e-mail costs one argon2 verification too, so the answer time does not tell
    which accounts exist.
    """
    user = _by_email(email) if email else None
    ok = user.check_password(password) if user else verify_dummy_password(password)
    ok = ok and user.active and user.password_set
    target = ("admin_user", user.id if user else None)
    if ok:
        if not user.session_token:  # an account from before revocable sessions
            user.end_sessions()
        audit.record(user, "login", target, outcome="succeeded", message=f"from {address}")
    else:
        audit.record(None, "login", target, outcome="failed",
                     message=f"failed login for {email[:254]!r} from {address}")
    db.session.commit()
    return user if ok else None


def log_out(user, *, address):
    """End every session of `user` (the cookie of this one and any copy of it)."""
    user = _locked_user(user.id)
    user.end_sessions()
    audit.record(user, "logout", user, outcome="succeeded", message=f"from {address}")
    db.session.commit()


def _issue_link(user, now, hours):
    token = new_token()
    user.password_link_digest = token_digest(token)
    user.password_link_expires_at = now + timedelta(hours=hours)
    return token


def invite(actor, email, role, *, deps, link_hours):
    """Create an admin without a usable password; returns (user, one-time link token)."""
    _require(actor, "invite_admin", ("admin_user", None))
    if role not in ROLES:
        raise InvalidRequest(f"There is no role “{role}”; nothing was changed.")
    email = admin_email(email)
    if _by_email(email):
        raise InvalidRequest(f"{email} already has an account; nothing was changed.")
    user = AdminUser(email=email, role=role, active=True, password_set=False,
                     password_hash=hasher().hash(new_token()), session_token=new_token())
    token = _issue_link(user, deps.clock(), link_hours)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "invite_admin", user, outcome="succeeded",
                 after={"email": email, "role": role})
    db.session.commit()
    return user, token


def new_password_link(actor, user_id, *, deps, link_hours):
    """A new one-time set-password link for an existing admin (the old link stops working)."""
    _require(actor, "password_link", ("admin_user", user_id))
    user = _locked_user(user_id)
    token = _issue_link(user, deps.clock(), link_hours)
    audit.record(actor, "password_link", user, outcome="succeeded",
                 after={"expires_at": user.password_link_expires_at.isoformat()})
    db.session.commit()
    return user, token


def change_role(actor, user_id, role):
    _require(actor, "change_admin_role", ("admin_user", user_id))
    if role not in ROLES:
        raise InvalidRequest(f"There is no role “{role}”; nothing was changed.")
    user = _locked_user(user_id)
    if user.role == role:
        raise InvalidRequest(f"{user.email} already has the role {role}; nothing was changed.")
    if role != "owner":
        _keep_an_owner(user, f"making them {role}")
    before = user.role
    user.role = role
    user.end_sessions()
    audit.record(actor, "change_admin_role", user, outcome="succeeded",
                 before={"role": before}, after={"role": role})
    db.session.commit()
    return user


def set_active(actor, user_id, active):
    """Deactivate (ends every session, refuses logins) or reactivate an admin."""
    action = "reactivate_admin" if active else "deactivate_admin"
    _require(actor, action, ("admin_user", user_id))
    user = _locked_user(user_id)
    if user.active == active:
        state = "active" if active else "deactivated"
        raise InvalidRequest(f"{user.email} is already {state}; nothing was changed.")
    if not active:
        _keep_an_owner(user, "deactivating them")
    user.active = active
    user.end_sessions()
    audit.record(actor, action, user, outcome="succeeded",
                 before={"active": not active}, after={"active": active})
    db.session.commit()
    return user


def end_sessions(actor, user_id):
    """Log `user_id` out everywhere."""
    _require(actor, "end_admin_sessions", ("admin_user", user_id))
    user = _locked_user(user_id)
    user.end_sessions()
    audit.record(actor, "end_admin_sessions", user, outcome="succeeded")
    db.session.commit()
    return user


def user_for_link(token, *, deps):
    """The admin a set-password link belongs to while it is valid, else None."""
    if not token or len(token) > 100:
        return None
    user = db.session.scalar(
        select(AdminUser).where(AdminUser.password_link_digest == token_digest(token)))
    if user is None or not user.active or user.password_link_expires_at <= deps.clock():
        return None
    return user


def set_password_from_link(token, password, *, deps):
    """Set the password through a one-time link; the link and every session end with it."""
    user = user_for_link(token, deps=deps)
    if user is None:
        raise InvalidRequest("This link has expired or was already used. Ask an owner for a "
                             "new one.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    user = _locked_user(user.id)
    user.set_password(password)
    audit.record(user, "set_password", user, outcome="succeeded", message="one-time link")
    db.session.commit()
    return user


def change_own_password(user, current_password, new_password):
    """An admin changes their own password; every session of theirs ends with it."""
    user = _locked_user(user.id)
    if not user.check_password(current_password):
        audit.record_refusal(user, "change_password", user, outcome="rejected",
                             message="wrong current password")
        raise InvalidRequest("The current password is wrong; nothing was changed.")
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    user.set_password(new_password)
    audit.record(user, "change_password", user, outcome="succeeded")
    db.session.commit()
    return user


def mail_password_link(user, link, *, deps):
    """E-mail the set-password link (after the commit); EmailFailed says why it did not go."""
    body = (f"Hello,\n\nan account on {deps.settings.get('SELLER_NAME')}'s Memberdesk is "
            f"ready for you ({user.email}, role {user.role}).\nChoose your password here "
            f"(the link works once, until {user.password_link_expires_at:%Y-%m-%d %H:%M} "
            f"UTC):\n\n{link}\n")
    message = Message(subject="Your Memberdesk account", recipients=[user.email], body=body)
    deps.send_mail(message, what="the set-password e-mail")
