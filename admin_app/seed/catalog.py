"""What the demo business sells: plans, one-time products, coupons, affiliates, refunds."""
from babel.numbers import get_currency_precision
from sqlalchemy import func, insert, select

from admin_app.seed.codes import BASE36, BASE62
from admin_app.seed.words import ascii_slug
from models import Affiliate, Plan

# name, price in major units, interval, interval_count, active
PLANS = [("Starter Monthly", 19, "month", 1, True), ("Pro Monthly", 49, "month", 1, True),
         ("Pro Quarterly", 129, "month", 3, True), ("Academy Yearly", 399, "year", 1, True),
         ("Team Yearly", 999, "year", 1, True), ("Legacy Basic Monthly", 9, "month", 1, False)]
PLAN_WEIGHTS = [30, 35, 10, 15, 5, 5]
# One-time purchases: description and price in major units.
PRODUCTS = [("Course: Python for Data Analysis", 129), ("Course: Practical SQL", 89),
            ("Course: UX Writing Essentials", 149), ("Workshop: Pricing Your Freelance Work", 49),
            ("Workshop: Public Speaking Live", 79), ("Ebook: The Remote Team Handbook", 19),
            ("Template pack: Notion Business OS", 29), ("Mentoring session (60 min)", 99),
            ("Certification exam", 149), ("Bootcamp deposit", 499), ("Gift card", 50),
            ("Conference ticket — early bird", 249)]
COUPONS = [("WELCOME10", 10), ("SPRING20", 20), ("STUDENT25", 25), ("BLACKFRIDAY50", 50)]
AFFILIATES = [("Maria Schmidt", 1000), ("CodeCraft Blog", 1500), ("The Indie Hacker Podcast", 2000),
              ("Learn with Léa", 1250), ("Ahmed Khan", 500), ("DevTips Weekly", 1000),
              ("Nordic Founders Club", 750), ("Sofía Navarro", 2500), ("Bootcamp Reviews", 3000),
              ("O'Malley Media", 1500), ("Kenji Watanabe", 1000), ("Growth Garage", 2000),
              ("Studio Bálint", 1250), ("Priya Raman", 3500)]
REFUND_REASONS = ["requested_by_customer"] * 14 + ["duplicate"] * 2 + ["fraudulent"] + ["other"] * 3
REFUND_NOTES = {  # an optional note per reason
    "requested_by_customer": [None] * 4 + ["Asked within the 14-day window",
                                           "Course was cancelled", "Bought the wrong plan"],
    "duplicate": [None, "Charged twice by mistake"],
    "fraudulent": [None, "Card reported stolen by the card holder"],
    "other": [None, "Goodwill gesture after the outage", "Price adjustment"],
}
REFUND_FAILURES = {"stripe": "Insufficient balance in the account to cover the refund.",
                   "paypal": "TRANSACTION_REFUSED: the refund was refused by PayPal."}


def price_factor(currency):
    """Minor units per unit of the price lists (keeps prices sensible for JPY or KWD too)."""
    return 10 ** max(get_currency_precision(currency), 2)


def ensure_catalog(conn, rng, currency):
    """The plans and affiliates to use; creates the default ones when there are none."""
    plans, affiliates = Plan.__table__, Affiliate.__table__
    plan_rows = select(plans.c.id, plans.c.name, plans.c.price_cents, plans.c.currency,
                       plans.c.interval, plans.c.interval_count, plans.c.active
                       ).order_by(plans.c.id)
    if not conn.execute(plan_rows).first():
        conn.execute(insert(plans), [
            {"name": name, "price_cents": price * price_factor(currency), "currency": currency,
             "interval": interval, "interval_count": count, "active": active,
             "stripe_price_id": "price_1" + "".join(rng.choices(BASE62, k=23)),
             "paypal_plan_id": "P-" + "".join(rng.choices(BASE36, k=24))}
            for name, price, interval, count, active in PLANS])
    if not conn.scalar(select(func.count()).select_from(affiliates)):
        conn.execute(insert(affiliates), [
            {"name": name, "commission_rate_bp": rate,
             "email": ".".join(map(ascii_slug, name.split())) + "@partners.example.org"}
            for name, rate in AFFILIATES])
    affiliate_rows = select(affiliates.c.id, affiliates.c.commission_rate_bp
                            ).order_by(affiliates.c.id)
    return conn.execute(plan_rows).all(), conn.execute(affiliate_rows).all()
