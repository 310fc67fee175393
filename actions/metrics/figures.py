"""Home's figures: the month bridge and rates from the stored days, and the counts of the
moment (past due, renewals, access ending, the last sync's drift). docs/METRICS.md says the
rules.

Reads O(months) stored rows and the one stored row of the counts of the moment (recounted
when older than METRICS_LIVE_SECONDS); never a pass over all customers on a view that finds
them current (docs/PERFORMANCE.md).
"""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from actions.metrics import days
from actions.metrics.backfill import unseen_count
from actions.sync.backfill import last_drift
from models import MetricsDay, MetricsLive, MrrSpan, Subscription, db
from models.access import access_ends_within
from models.dates import store_day
from models.metrics import DAY_FIGURES
from models.sub_state import state_sql

MAX_MONTHS = 60
BRIDGE = ("new", "expansion", "reactivation", "contraction", "churn")


def parse_months(text, default=12):
    """The `months` argument: a whole number 1..MAX_MONTHS in ASCII digits, else ValueError
    with the message an admin reads."""
    if text is None or text == "":
        return default
    if not (isinstance(text, str) and text.isascii() and text.isdigit()) \
            or not 1 <= int(text) <= MAX_MONTHS:
        raise ValueError(f"months must be a whole number from 1 to {MAX_MONTHS}.")
    return int(text)


def month_starts(today, months):
    """The first day of each of the last `months` months, oldest first (this one last)."""
    year, month = today.year, today.month
    firsts = []
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def rate(part, whole):
    """part / whole as a percentage with one decimal ("2.5"), None when whole is 0."""
    if not whole:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def bridge(months, today):
    """[{month, start, new, expansion, reactivation, contraction, churn, end, subscribers,
    churn_count, payments, refunds, disputes_lost, net_revenue, ... rates}] per month."""
    firsts = month_starts(today, months)
    columns = [getattr(MetricsDay, name) for name in ("day", *DAY_FIGURES)]
    rows = db.session.execute(select(*columns).where(  # plain rows: no ORM objects to build
        MetricsDay.day >= firsts[0] - timedelta(days=1), MetricsDay.day <= today)
        .order_by(MetricsDay.day)).all()
    before = {"mrr_cents": 0, "subscribers": 0}
    if rows and rows[0].day < firsts[0]:
        first = rows.pop(0)
        before = {"mrr_cents": first.mrr_cents, "subscribers": first.subscribers}
    summed = [name for name in DAY_FIGURES if name not in ("mrr_cents", "subscribers")]
    by_month = {(first.year, first.month): [] for first in firsts}
    for row in rows:
        by_month[(row.day.year, row.day.month)].append(row)
    out = []
    for n, first in enumerate(firsts):
        last = firsts[n + 1] if n + 1 < len(firsts) else today + timedelta(days=1)
        inside = by_month[(first.year, first.month)]
        month = {"month": first.strftime("%Y-%m"), "first_day": first.isoformat(),
                 "last_day": (min(last - timedelta(days=1), today)).isoformat(),
                 "start_mrr_cents": before["mrr_cents"],
                 "start_subscribers": before["subscribers"]}
        values = [tuple(getattr(r, k) for k in summed) for r in inside]
        totals = [sum(column) for column in zip(*values)] or [0] * len(summed)
        month.update(zip(summed, totals))
        if inside:
            before = {"mrr_cents": inside[-1].mrr_cents, "subscribers": inside[-1].subscribers}
        month["end_mrr_cents"] = before["mrr_cents"]
        month["end_subscribers"] = before["subscribers"]
        month["net_revenue_cents"] = (month["payments_cents"] - month["refunds_cents"]
                                      - month["disputes_lost_cents"])
        month["subscriber_churn_rate"] = rate(month["churn_count"], month["start_subscribers"])
        month["revenue_churn_rate"] = rate(month["churn_cents"] + month["contraction_cents"],
                                           month["start_mrr_cents"])
        out.append(month)
    return out


def apart(now):
    """[{currency, native_cents, subscriptions}]: MRR in other currencies with no settled
    payment to give a rate yet: listed apart, never added."""
    S = MrrSpan
    rows = db.session.execute(
        select(S.currency, func.sum(S.native_cents), func.count())
        .where(S.mrr_cents.is_(None), S.starts_at <= now,
               or_(S.ends_at.is_(None), S.ends_at > now))
        .group_by(S.currency).order_by(S.currency)).all()
    return [{"currency": c, "native_cents": int(v), "subscriptions": n} for c, v, n in rows]


def _by_currency(condition):
    """(count, [{currency, cents}]) of subscriptions matching: prices per currency, never
    added across currencies."""
    rows = db.session.execute(
        select(Subscription.currency, func.count(), func.sum(Subscription.price_cents))
        .where(condition).group_by(Subscription.currency)
        .order_by(Subscription.currency)).all()
    return (sum(n for _, n, _ in rows),
            [{"currency": c, "cents": int(v or 0)} for c, _, v in rows])


def live(now, tz):
    """Figures of this moment: past due (amount at risk), renewals in the next 7 days,
    access ending within 30 days, the last sync's drift."""
    past_due, at_risk = _by_currency(state_sql("past_due", now))
    renewing = and_(or_(state_sql("active", now), state_sql("trialing", now)),
                    Subscription.status.in_(("active", "trialing")),
                    Subscription.next_payment_date >= now,
                    Subscription.next_payment_date < now + timedelta(days=7))
    renewals, renewal_amounts = _by_currency(renewing)
    ending = db.session.scalar(select(func.count()).select_from(Subscription)
                               .where(access_ends_within(now, 30)))
    drift = []
    for gateway, (at, report) in sorted(last_drift().items()):
        drift.append({"gateway": gateway, "checked_at": at.isoformat() if at else None,
                      "differences": (report.get("drift_total", 0)
                                      + (report.get("ltv_drift") or 0)
                                      + (report.get("ltv_differences_total") or 0))})
    return {"unseen_subscriptions": unseen_count(),
            "past_due": {"count": past_due, "amounts": at_risk},
            "renewals_7_days": {"count": renewals, "amounts": renewal_amounts},
            "access_ending_30_days": {"count": ending}, "sync_drift": drift}


def live_counted(now, tz, max_age):
    """live() as last counted, recounted (and stored) when older than max_age seconds: a
    count of the moment costs a pass over the subscriptions in those states, which Home at
    1M customers must not pay on every view (docs/PERFORMANCE.md)."""
    row = db.session.get(MetricsLive, 1)
    if row is not None and now - timedelta(seconds=max_age) <= row.computed_at <= now:
        return {**row.figures, "counted_at": row.computed_at.isoformat()}
    figures = live(now, tz)
    values = {"id": 1, "computed_at": now, "figures": figures}
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        db.session.get_bind().dialect.name]
    db.session.execute(insert(MetricsLive).values(**values).on_conflict_do_update(
        index_elements=["id"], set_={"computed_at": now, "figures": figures}))
    db.session.commit()
    return {**figures, "counted_at": now.isoformat()}


def home(now, tz, store, months=12, live_seconds=60):
    """Everything Home shows (and /admin/metrics/mrr.json returns), after bringing the
    stored days up to date."""
    days.refresh(now, tz, store)
    today = store_day(now, tz)
    months_ = bridge(months, today)
    current = months_[-1]
    return {"currency": store, "as_of": now.isoformat(), "today": today.isoformat(),
            "mrr_cents": current["end_mrr_cents"], "subscribers": current["end_subscribers"],
            "mrr_apart": apart(now), "months": months_,
            **live_counted(now, tz, live_seconds)}
