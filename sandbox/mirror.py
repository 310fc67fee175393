"""Put the panel's records into the sandbox with the same references, so that the sandbox
holds what the gateways would hold (the demo: `flask sync … --dry-run` finds 0 differences).

Reads the panel's tables once, at start-up; from then on the two sides only talk through the
adapters and the webhooks. Plans without gateway ids get them here (the demo catalog's ids
at the sandbox)."""
from collections import defaultdict

from sqlalchemy import select

from sandbox import ids

_STRIPE_PAYMENT = {"succeeded": "succeeded", "failed": "failed", "pending": "pending"}
_PAYPAL_CAPTURE = {"succeeded": "COMPLETED", "failed": "DECLINED", "pending": "PENDING"}
_PAYPAL_SALE = {"succeeded": "completed", "failed": "denied", "pending": "pending"}
_PAYPAL_REFUND = {"succeeded": "COMPLETED", "failed": "FAILED", "pending": "PENDING"}


def ts(value):
    return int(value.timestamp()) if value is not None else None


def mirror(sb, session, progress=None):
    """Create every customer, plan, subscription, payment and refund of the panel's database
    in the sandbox `sb`; returns counts. Writes the plans' gateway ids when they had none."""
    from models import Customer, Plan, Refund, Subscription, Transaction
    counts = defaultdict(int)
    with sb.lock:
        plans = {}
        for plan in session.scalars(select(Plan)):
            if not plan.stripe_price_id:
                plan.stripe_price_id = ids.stripe("price_1")
            if not plan.paypal_plan_id:
                plan.paypal_plan_id = ids.plan_id()
            price = sb.stripe.price(amount=plan.price_cents, currency=plan.currency,
                                    interval=plan.interval, interval_count=plan.interval_count,
                                    nickname=plan.name, ref=plan.stripe_price_id,
                                    active=plan.active)
            sb.paypal.plan(name=plan.name, amount=plan.price_cents, currency=plan.currency,
                           interval=plan.interval, interval_count=plan.interval_count,
                           ref=plan.paypal_plan_id)
            plans[plan.id] = (plan, price)
            counts["plans"] += 1
        session.commit()
        customers = {}
        for c in session.scalars(select(Customer)):
            customers[c.id] = c
            if c.stripe_customer_id:
                sb.stripe.customer(email=c.email, name=c.name, country=c.country,
                                   created=ts(c.created_at), ref=c.stripe_customer_id,
                                   metadata={"memberdesk_customer_id": str(c.id)})
            if c.paypal_payer_id:
                sb.paypal.payer(email=c.email, name=c.name, country=c.country,
                                ref=c.paypal_payer_id)
            counts["customers"] += 1
            if progress:
                progress(1)
        payments = defaultdict(list)
        transactions = session.scalars(select(Transaction).order_by(Transaction.created_at,
                                                                    Transaction.id)).all()
        for tx in transactions:
            if tx.subscription_id:
                payments[tx.subscription_id].append(tx)
        subscriptions = {}
        for sub in session.scalars(select(Subscription).order_by(Subscription.id)):
            customer = customers[sub.customer_id]
            if sub.gateway == "stripe" and customer.stripe_customer_id:
                _stripe_subscription(sb, sub, customer, plans.get(sub.plan_id))
            elif sub.gateway == "paypal" and customer.paypal_payer_id:
                _paypal_subscription(sb, sub, customer, plans.get(sub.plan_id),
                                     payments.get(sub.id, []))
            else:
                continue
            subscriptions[sub.id] = sub
            counts["subscriptions"] += 1
        refunds = defaultdict(list)
        for refund in session.scalars(select(Refund).order_by(Refund.created_at, Refund.id)):
            refunds[refund.transaction_id].append(refund)
        for tx in transactions:
            customer = customers[tx.customer_id]
            sub = subscriptions.get(tx.subscription_id)
            if tx.gateway == "stripe":
                _stripe_payment(sb, tx, customer, refunds.get(tx.id, []))
            elif tx.gateway == "paypal":
                if not customer.paypal_payer_id:  # the payer PayPal knows them as
                    customer.paypal_payer_id = sb.paypal.payer(
                        email=customer.email, name=customer.name,
                        country=customer.country)["payer_id"]
                _paypal_payment(sb, tx, customer, sub, refunds.get(tx.id, []))
            else:
                continue
            counts["payments"] += 1
            counts["refunds"] += len(refunds.get(tx.id, []))
        session.commit()
    return dict(counts)


def _settlement(row):
    if row.settlement_cents is None:
        return None
    return (row.settlement_cents, row.settlement_currency or row.currency,
            getattr(row, "fee_cents", None))


def _stripe_payment(sb, tx, customer, refunds):
    ref = tx.gateway_ref
    guest = None
    if not customer.stripe_customer_id:  # paid without a Stripe customer (a guest charge)
        guest = {"email": customer.email, "name": customer.name, "country": customer.country}
    charge = sb.stripe.payment(
        customer=customer.stripe_customer_id, guest=guest, amount=tx.amount_cents, currency=tx.currency,
        created=ts(tx.created_at), description=tx.description,
        status=_STRIPE_PAYMENT.get(tx.status, "pending"), settlement=_settlement(tx),
        pi_ref=ref if ref.startswith("pi_") else None,
        charge_ref=ref if ref.startswith(("ch_", "py_")) else None,
        metadata={"memberdesk_transaction_id": str(tx.id)})
    for refund in refunds:
        if not refund.gateway_ref:
            continue  # never reached Stripe
        sb.stripe.add_refund(
            charge, amount=refund.amount_cents, status=refund.status,
            created=ts(refund.created_at), ref=refund.gateway_ref,
            reason=refund.reason if refund.reason in (
                "duplicate", "fraudulent", "requested_by_customer") else None,
            settlement=refund.settlement_cents if refund.status == "succeeded" else None,
            metadata={"memberdesk_refund_id": str(refund.id)})


def _paypal_payment(sb, tx, customer, sub, refunds):
    if sub is not None and sub.gateway == "paypal":
        sale = sb.paypal.sale(subscription=sub.gateway_id, amount=tx.amount_cents,
                              currency=tx.currency, created=ts(tx.created_at),
                              description=tx.description,
                              state=_PAYPAL_SALE.get(tx.status, "pending"),
                              settlement=_settlement(tx), ref=tx.gateway_ref)
        parent = sale["id"]
    else:
        capture = sb.paypal.capture(payer=customer.paypal_payer_id, amount=tx.amount_cents,
                                    currency=tx.currency, created=ts(tx.created_at),
                                    description=tx.description,
                                    status=_PAYPAL_CAPTURE.get(tx.status, "PENDING"),
                                    settlement=_settlement(tx), ref=tx.gateway_ref,
                                    custom_id=str(tx.id))
        parent = capture["id"]
    for refund in refunds:
        if not refund.gateway_ref:
            continue
        sb.paypal.add_refund(parent, amount=refund.amount_cents, currency=refund.currency,
                             created=ts(refund.created_at), ref=refund.gateway_ref,
                             status=_PAYPAL_REFUND.get(refund.status, "PENDING"),
                             custom_id=str(refund.id))


def _stripe_subscription(sb, sub, customer, plan):
    plan_row, price = plan if plan else (None, None)
    if price is None or price["unit_amount"] != sub.price_cents or \
            price["currency"] != sub.currency.lower() or \
            price["recurring"]["interval"] != sub.interval:
        product = price["product"] if price else None
        price = sb.stripe.price(amount=sub.price_cents, currency=sub.currency,
                                interval=sub.interval, interval_count=sub.interval_count,
                                product=product, nickname=sub.name, active=False)
    from sandbox.times import add_interval
    end = ts(sub.current_period_end or sub.next_payment_date or sub.access_until) or \
        add_interval(ts(sub.start_date), sub.interval, sub.interval_count)
    start = max(ts(sub.start_date), add_interval(end, sub.interval, -sub.interval_count)) \
        if sub.status != "trialing" else ts(sub.start_date)
    paused = None
    if sub.paused:
        paused = {"behavior": "void", "resumes_at": ts(sub.pause_resumes_at)}
    created = sb.stripe.subscription(
        customer=customer.stripe_customer_id, price=price,
        status={"active": "active", "trialing": "trialing", "past_due": "past_due",
                "canceled": "canceled", "unpaid": "unpaid",
                "incomplete": "incomplete"}.get(sub.status, "active"),
        start=ts(sub.start_date), period_start=start, period_end=end,
        cancel_at_period_end=sub.cancel_at_period_end, canceled_at=ts(sub.canceled_at),
        ended_at=ts(sub.access_until or sub.canceled_at) if sub.status == "canceled" else None,
        ref=sub.gateway_id, metadata={"memberdesk_subscription_id": str(sub.id)},
        paused=paused)
    if sub.cancel_at and not sub.cancel_at_period_end:
        created["cancel_at"] = ts(sub.cancel_at)


def _paypal_subscription(sb, sub, customer, plan, payments):
    plan_row = plan[0] if plan else None
    plan_id = plan_row.paypal_plan_id if plan_row else None
    if plan_id is None:
        plan_id = sb.paypal.plan(name=sub.name, amount=sub.price_cents, currency=sub.currency,
                                 interval=sub.interval,
                                 interval_count=sub.interval_count)["id"]
    status = {"canceled": "CANCELLED"}.get(sub.status, "SUSPENDED" if sub.paused
                                           else "ACTIVE")
    paid = [tx for tx in payments if tx.status == "succeeded"]
    last = (ts(paid[-1].created_at), paid[-1].amount_cents, paid[-1].currency) \
        if paid else None
    listed = sb.paypal.plans[plan_id]["billing_cycles"][0]["pricing_scheme"]["fixed_price"]
    from sandbox.paypal_api import cents
    override = None
    if (cents(listed["value"], listed["currency_code"]), listed["currency_code"]) != \
            (sub.price_cents, sub.currency.upper()):
        override = (sub.price_cents, sub.currency)
    created = sb.paypal.subscription(
        plan_id=plan_id, payer=customer.paypal_payer_id, status=status,
        start=ts(sub.start_date),
        next_billing=ts(sub.next_payment_date or sub.current_period_end),
        last_payment=last, cycles_completed=max(1, len(paid)), ref=sub.gateway_id,
        custom_id=str(sub.id), status_update=ts(sub.canceled_at), price=override)
    if sub.status == "past_due":
        created["billing_info"]["failed_payments_count"] = 1
