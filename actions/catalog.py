"""Catalog edits: plans and affiliates, with their limits, audited with before/after.

Each function checks `manage_catalog` itself, validates every field (InvalidRequest with a
message the admin can act on, nothing written), records one audit entry and commits once.
`fields` are plain values as an admin types them: a plan's price as an amount in its
currency ("19.00"), an affiliate's commission as a percentage ("12.5").
"""
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, list_currencies, parse_decimal
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from actions import audit
from actions.errors import InvalidRequest
from actions.locks import lock
from actions.permissions import require
from models import Affiliate, Plan, db
from models.money import parse_amount
from models.subscription import INTERVALS

PERMISSION = "manage_catalog"
MAX_INTERVAL_COUNT = 36
MAX_PRICE_CENTS = 10 ** 12  # far above any plan, far inside a 64-bit column
PLAN_FIELDS = ("name", "price_cents", "currency", "interval", "interval_count",
               "stripe_price_id", "paypal_plan_id", "active")
AFFILIATE_FIELDS = ("name", "email", "commission_rate_bp")
NOT_CURRENCIES = {"XXX", "XTS"}  # "no currency" and "testing" in ISO 4217


def create_plan(deps, actor, fields):
    """Add a plan to the catalog; returns it."""
    require(actor, PERMISSION)
    values = plan_values(fields, deps.locale)
    plan = Plan(**values)
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan.create", plan, outcome="succeeded", after=values)
    db.session.commit()
    return plan


def update_plan(deps, actor, plan_id, fields):
    """Change a plan (existing subscriptions keep their own price); returns it."""
    require(actor, PERMISSION)
    values = plan_values(fields, deps.locale)
    plan = lock(Plan, plan_id, "This plan no longer exists.")
    _apply(actor, "plan.update", plan, values)
    return plan


def create_affiliate(deps, actor, fields):
    """Add an affiliate; returns it."""
    require(actor, PERMISSION)
    values = affiliate_values(fields, deps.locale)
    _refuse_taken_email(values["email"], None)
    affiliate = Affiliate(**values)
    db.session.add(affiliate)
    _commit_affiliate(actor, "affiliate.create", affiliate, None, values)
    return affiliate


def update_affiliate(deps, actor, affiliate_id, fields):
    """Change an affiliate's name, email or default commission rate; returns it."""
    require(actor, PERMISSION)
    values = affiliate_values(fields, deps.locale)
    affiliate = lock(Affiliate, affiliate_id, "This affiliate no longer exists.")
    _refuse_taken_email(values["email"], affiliate_id)
    before, after = _changes(affiliate, values)
    if after:
        _commit_affiliate(actor, "affiliate.update", affiliate, before, after)
    else:
        db.session.rollback()
    return affiliate


def plan_values(fields, locale="en_US"):
    """The plan's columns from the admin's input, or InvalidRequest naming the problem."""
    currency = str(fields.get("currency") or "").strip().upper()
    if currency not in list_currencies() or currency in NOT_CURRENCIES:
        raise InvalidRequest(f"“{fields.get('currency') or ''}” is not an ISO currency code "
                             "(for example USD or EUR).")
    try:
        price = parse_amount(fields.get("price") or "", currency, locale)
    except ValueError as exc:
        raise InvalidRequest(f"Price: {exc}") from None
    if not 0 <= price < MAX_PRICE_CENTS:
        raise InvalidRequest("The price cannot be negative." if price < 0 else
                             "The price is too large.")
    interval = fields.get("interval")
    if interval not in INTERVALS:
        raise InvalidRequest(f"The billing interval must be one of {', '.join(INTERVALS)}.")
    count = fields.get("interval_count")
    if not isinstance(count, int) or isinstance(count, bool) or not (
            1 <= count <= MAX_INTERVAL_COUNT):
        raise InvalidRequest(f"Bill every 1 to {MAX_INTERVAL_COUNT} {interval}s.")
    return {"name": _name(fields), "price_cents": price, "currency": currency,
            "interval": interval, "interval_count": count,
            "stripe_price_id": _optional(fields, "stripe_price_id", 64),
            "paypal_plan_id": _optional(fields, "paypal_plan_id", 64),
            "active": bool(fields.get("active"))}


def affiliate_values(fields, locale="en_US"):
    """The affiliate's columns from the admin's input, or InvalidRequest naming the problem."""
    try:
        email = validate_email(str(fields.get("email") or "").strip(),
                               check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidRequest(f"Email: {exc}") from None
    return {"name": _name(fields), "email": email,
            "commission_rate_bp": percent_to_bp(fields.get("commission_percent"), locale)}


def percent_to_bp(text, locale="en_US"):
    """'12.5' (%) -> 1250 basis points; 0 to 100 % with at most two decimals."""
    try:
        percent = parse_decimal(str(text if text is not None else "").strip(), locale=locale,
                                strict=True)
    except (NumberFormatError, InvalidOperation):
        raise InvalidRequest(f"“{text or ''}” is not a percentage.") from None
    basis_points = percent.scaleb(2)
    if basis_points != basis_points.to_integral_value():
        raise InvalidRequest("The commission rate has at most two decimals (12.25 %).")
    if not Decimal(0) <= percent <= Decimal(100):
        raise InvalidRequest("The commission rate must be between 0 and 100 %.")
    return int(basis_points)


def _name(fields):
    name = str(fields.get("name") or "").strip()
    if not name:
        raise InvalidRequest("A name is required.")
    if len(name) > 120:
        raise InvalidRequest("The name has at most 120 characters.")
    return name


def _optional(fields, key, max_length):
    value = str(fields.get(key) or "").strip() or None
    if value and len(value) > max_length:
        raise InvalidRequest(f"{key.replace('_', ' ').capitalize()} has at most "
                             f"{max_length} characters.")
    return value


def _changes(row, values):
    """(before, after) of the columns that change; applies them to the row."""
    before, after = {}, {}
    for key, value in values.items():
        if getattr(row, key) != value:
            before[key], after[key] = getattr(row, key), value
            setattr(row, key, value)
    return before, after


def _apply(actor, action, row, values):
    before, after = _changes(row, values)
    if not after:
        db.session.rollback()
        return
    audit.record(actor, action, row, outcome="succeeded", before=before, after=after)
    db.session.commit()


def _refuse_taken_email(email, own_id):
    owner = db.session.scalar(select(Affiliate).where(
        func.lower(Affiliate.email) == email, Affiliate.id != (own_id or 0)))
    if owner is not None:
        raise InvalidRequest(f"{email} is already the email of the affiliate {owner.name}; "
                             "each affiliate needs an email address of their own.")


def _commit_affiliate(actor, action, affiliate, before, after):
    """Audit and commit; a concurrent insert of the same email ends as a clear refusal."""
    try:
        db.session.flush()
        audit.record(actor, action, affiliate, outcome="succeeded", before=before, after=after)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise InvalidRequest(f"{after.get('email', affiliate.email)} is already the email of "
                             "another affiliate.") from None
