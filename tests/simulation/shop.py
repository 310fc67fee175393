"""The shop every history starts from: a catalog of plans (in the panel and at both
gateways), an affiliate, an owner, and members who pay at the gateways — each with a monthly
subscription (its first period paid) and a one-off payment, some of them in euros settled
in dollars. The gateways hold the members; the panel learns of them through its sync, as a
shop that connects its accounts would."""
from sandbox.times import DAY, add_interval
from models import AdminUser, Affiliate, Plan, db

PLANS = (("Pro Monthly", 4900), ("Pro Plus", 9900), ("Starter", 1900))
#: (name, gateway, plan index, one-off: (cents, currency, settled cents in USD or None))
MEMBERS = (
    ("Ada Lovelace", "stripe", 0, (12000, "USD", None)),
    ("Grace Hopper", "stripe", 1, (4900, "EUR", 5292)),
    ("Alan Turing", "paypal", 0, (5000, "USD", None)),
    ("Edsger Dijkstra", "paypal", 2, (8000, "EUR", 8640)),
)
RATE_BP = 1000  # the affiliate's 10 %


def build(world, members=MEMBERS):
    """Create the shop; returns the owner's id."""
    sb = world.sb
    with world.context():
        owner = AdminUser(email="owner@example.com", role="owner", password_hash="not-used")
        db.session.add(owner)
        db.session.add(Affiliate(name="Partner Co", email="partner@example.com",
                                 commission_rate_bp=RATE_BP))
        plans = []
        for name, cents in PLANS:
            plan = Plan(name=name, price_cents=cents, currency="USD", interval="month",
                        interval_count=1)
            db.session.add(plan)
            plans.append(plan)
        db.session.commit()
        now = sb.now()
        with sb.lock:
            prices = []
            for plan in plans:
                price = sb.stripe.price(amount=plan.price_cents, currency="usd",
                                        interval="month", nickname=plan.name)
                pp = sb.paypal.plan(name=plan.name, amount=plan.price_cents, currency="USD",
                                    interval="month")
                plan.stripe_price_id, plan.paypal_plan_id = price["id"], pp["id"]
                prices.append((price, pp))
            db.session.commit()
            for i, (name, gateway, plan_index, one_off) in enumerate(members):
                email = f"{name.split()[0].lower()}@example.com"
                start = now - (5 + 3 * i) * DAY
                end = add_interval(start, "month")
                price, pp = prices[plan_index]
                if gateway == "stripe":
                    _stripe_member(sb, name, email, start, end, price, one_off, now)
                else:
                    _paypal_member(sb, name, email, start, end, pp, plans[plan_index],
                                   one_off, now)
        owner_id = owner.id
    for gateway in ("stripe", "paypal"):
        world.sync(gateway)
    world.listen()
    return owner_id


def _stripe_member(sb, name, email, start, end, price, one_off, now):
    cus = sb.stripe.customer(email=email, name=name, country="GB",
                             created=start - DAY)
    sub = sb.stripe.subscription(customer=cus["id"], price=price, status="active",
                                 start=start, period_start=start, period_end=end)
    charge = sb.stripe.payment(customer=cus["id"], amount=price["unit_amount"],
                               currency="usd", created=start,
                               description=f"{price['nickname']} — first payment",
                               metadata=sub["metadata"])
    sb.stripe.invoice(sub, charge, description=price["nickname"], period=(start, end))
    cents, currency, settled = one_off
    sb.stripe.payment(customer=cus["id"], amount=cents, currency=currency.lower(),
                      created=now - 2 * DAY, description="Course",
                      settlement=(settled, "usd", 180) if settled else None)


def _paypal_member(sb, name, email, start, end, pp, plan, one_off, now):
    payer = sb.paypal.payer(email=email, name=name, country="US")
    sub = sb.paypal.subscription(plan_id=pp["id"], payer=payer["payer_id"], status="ACTIVE",
                                 start=start, next_billing=end,
                                 last_payment=(start, plan.price_cents, "USD"))
    sb.paypal.sale(subscription=sub["id"], amount=plan.price_cents, currency="USD",
                   created=start, description=f"{plan.name} — first payment")
    cents, currency, settled = one_off
    sb.paypal.capture(payer=payer["payer_id"], amount=cents, currency=currency,
                      created=now - 2 * DAY, description="Course",
                      settlement=(settled, "USD", 300) if settled else None)
