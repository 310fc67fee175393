"""Edit customer details and avatar, audited with the fields that changed."""
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from actions import audit
from actions.base import ActionResult
from actions.avatars import delete_avatar, save_avatar
from actions.errors import InvalidRequest
from actions.locks import lock
from actions.permissions import require
from models import Customer, db
from models.customer import DETAIL_FIELDS


def update_customer(deps, actor, customer_id, details, avatar_image=None, remove_avatar=False):
    """Write `details` (field -> value) and an optional new avatar, or remove the avatar;
    one commit, audited with what changed (the avatar's file names before and after)."""
    require(actor, "edit_customer")
    avatar_dir = deps.setting("AVATAR_DIR")
    customer = lock(Customer, customer_id, "This customer no longer exists.")
    clash = db.session.scalar(select(Customer.id).where(
        func.lower(Customer.email) == details["email"].lower(), Customer.id != customer_id))
    if clash is not None:
        raise InvalidRequest("Another customer already has this email address.")

    before, after = {}, {}
    for key, _label in DETAIL_FIELDS:
        if getattr(customer, key) != details[key]:
            before[key], after[key] = getattr(customer, key), details[key]
            setattr(customer, key, details[key])
    old_avatar, new_avatar = customer.avatar, None
    if avatar_image is not None:
        new_avatar = save_avatar(avatar_image, avatar_dir, customer_id)
        before["avatar"], after["avatar"] = old_avatar, new_avatar
        customer.avatar = new_avatar
    elif remove_avatar and old_avatar:
        before["avatar"], after["avatar"] = old_avatar, None
        customer.avatar = None
    if not after:
        db.session.rollback()
        return ActionResult("Nothing changed.", "info")

    audit.record(actor, "customer.edit", customer, outcome="succeeded", before=before,
                 after=after)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        delete_avatar(avatar_dir, new_avatar)
        raise InvalidRequest("Another customer already has this email address.") from None
    if customer.avatar != old_avatar:  # replaced or removed: the old file goes
        delete_avatar(avatar_dir, old_avatar)
    return ActionResult(f"Saved the details of {customer.name}.")
