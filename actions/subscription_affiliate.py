"""Edit Affiliate (megaphone): who is credited for the subscription's renewals from now on."""
from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from actions import audit
from actions.base import ActionResult, RowAction
from actions.errors import InvalidRequest
from actions.permissions import require
from actions.subscription_changes import (duplicate_result, existing_request,
                                          lock_subscription, offered, require_applies,
                                          snapshot, summary)
from actions.subscription_forms import KeyedForm, new_form
from models import Affiliate, SubscriptionChange, db


def set_subscription_affiliate(deps, actor, sub_id, affiliate_id, *, request_key=None):
    """Credit renewals recorded from now on to affiliate_id (None: no affiliate); past sales
    keep theirs. No gateway call: the affiliate is ours alone."""
    require(actor, "edit_affiliate")
    sub = lock_subscription(sub_id)
    done = existing_request(request_key)
    if done is not None:
        db.session.rollback()
        return duplicate_result(done)
    require_applies(sub, "affiliate", deps.clock())
    affiliate = db.session.get(Affiliate, affiliate_id) if affiliate_id is not None else None
    if affiliate_id is not None and affiliate is None:
        raise InvalidRequest("That affiliate no longer exists; nothing was changed.")
    if sub.affiliate_id == affiliate_id:
        db.session.rollback()
        return ActionResult("Nothing changed: that is already the subscription's affiliate.",
                            "info")
    before = snapshot(sub)
    sub.affiliate_id = affiliate_id
    now = deps.clock()
    db.session.add(SubscriptionChange(
        subscription_id=sub.id, kind="affiliate", request_key=request_key or None,
        params={"ask": {"affiliate_id": affiliate_id}, "from_affiliate_id": before[
            "affiliate_id"]}, status="succeeded", created_by_id=getattr(actor, "id", None),
        created_at=now, completed_at=now))
    audit.record(actor, "subscription.affiliate", sub, outcome="succeeded", before=before,
                 after=snapshot(sub))
    db.session.commit()
    who = affiliate.name if affiliate else "no affiliate"
    return ActionResult(f"Renewals of this subscription now credit {who}; past sales keep "
                        "their affiliate.")


class AffiliateForm(KeyedForm):
    affiliate = SelectField("Affiliate", coerce=str, render_kw={"data-role": "select2"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.affiliate.choices = [SelectChoice("", "— No affiliate —")] + [
            SelectChoice(str(a.id), f"{a.name} ({a.commission_rate_bp / 100:g} %)")
            for a in db.session.scalars(select(Affiliate).order_by(Affiliate.name))]


def _form(sub, deps):
    return new_form(AffiliateForm, affiliate=str(sub.affiliate_id or ""))


def _perform(sub, form, actor, deps):
    affiliate_id = int(form.affiliate.data) if form.affiliate.data else None
    return set_subscription_affiliate(deps, actor, sub.id, affiliate_id,
                                      request_key=form.request_key.data)


def _context(sub, deps):
    current = sub.affiliate.name if sub.affiliate else "none"
    return {"summary": summary(sub, ("Current affiliate", current), with_gateway=False),
            "consequences": [
                "Renewal payments recorded from now on credit the chosen affiliate at its "
                "commission rate.",
                "Past sales keep their affiliate and commission (Edit Sale changes those one "
                "by one). Nothing is sent to the payment system."]}


ACTION = RowAction(
    name="subscription_affiliate", title="Edit Affiliate", icon="fa-bullhorn",
    permission="edit_affiliate", form=_form, perform=_perform, context=_context,
    **offered("affiliate"))
