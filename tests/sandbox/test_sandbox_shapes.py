"""A sample of exchanges between the panel's adapters and the sandbox, checked against
stripe-python's typed classes and PayPal's published OpenAPI shapes."""
from datetime import timedelta

from actions.gateways.paypal_sync import PayPalReader
from actions.gateways.stripe_sync import StripeReader
from sandbox.ids import PAYER_ID_PATTERN
from tests.sandbox.shapes import paypal_problems, stripe_problems

PAYPAL_ID = r"^[A-Z0-9]{17}$"


def _stripe_exchanges(sb, gateways, accounts):
    stripe, ref = gateways["stripe"], accounts["sub"]["id"]
    sb.record = True
    stripe.refund(accounts["charge"]["payment_intent"], 900, "USD", reason="duplicate",
                  note="twice", idempotency_key="shape-1")
    stripe.preview_change(ref, amount_cents=9900, currency="USD", interval="month",
                          interval_count=1, proration="always_invoice")
    stripe.change_price(ref, 9900, "USD", "month", 1, proration="none",
                        idempotency_key="shape-2")
    stripe.cancel(ref, at_period_end=True, idempotency_key="shape-3")
    reader = StripeReader(stripe)
    for kind in ("customers", "charges", "refunds", "subscriptions"):
        reader.page(kind)
    reader.balance_transaction(accounts["charge"]["balance_transaction"])
    sb.stripe.open_dispute(accounts["charge"]["id"])
    reader.page("disputes")
    sb.advance(40 * 86400)  # a renewal's charge, invoice and events
    reader.page("charges")
    sb.record = False
    return [e for e in sb.exchanges if e[0] == "stripe"]


def test_stripe_answers_fit_stripe_pythons_types(sb, gateways, accounts):
    exchanges = _stripe_exchanges(sb, gateways, accounts)
    assert len(exchanges) >= 12
    problems = []
    for _, method, path, _, status, body in exchanges:
        assert status == 200, (method, path, body)
        objects = body["data"] if body.get("object") == "list" else [body]
        for obj in objects:
            problems += [f"{method} {path}: {p}" for p in stripe_problems(obj)]
    for event in sb.stripe.events:  # what the panel's webhook endpoint receives
        problems += [f"event {event['type']}: {p}" for p in stripe_problems(event)]
        problems += [f"event {event['type']} object: {p}"
                     for p in stripe_problems(event["data"]["object"])]
    assert problems == []


def test_paypal_answers_follow_the_published_shapes(sb, gateways, accounts):
    paypal = gateways["paypal"]
    sb.record = True
    paypal.refund(accounts["capture"]["id"], 1000, "USD", reason="other", note="n",
                  idempotency_key="pp-shape-1")
    paypal.change_price(accounts["psub"]["id"], 2500, "USD", "month", 1, proration="none",
                        idempotency_key="pp-shape-2")
    reader = PayPalReader(paypal)
    reader.capture(accounts["capture"]["id"])
    reader.subscription(accounts["psub"]["id"])
    reader.plan(accounts["plan"]["id"])
    sb.advance(11 * 86400)
    rows, _ = reader.transactions(sb.now_dt() - timedelta(days=30), sb.now_dt())
    reader.sale(next(iter(sb.paypal.sales)))
    sb.record = False
    answers = {(method, path.split("/")[2] + "/" + path.split("/")[3]): body
               for vendor, method, path, _, status, body in sb.exchanges
               if vendor == "paypal" and body}
    problems = []
    refund = next(b for (m, p), b in answers.items() if p == "payments/captures" and m == "POST")
    problems += paypal_problems(refund, ("id", "status", "amount", "links"), ("amount",),
                                {"id": PAYPAL_ID})
    capture = next(b for (m, p), b in answers.items() if p == "payments/captures" and m == "GET")
    problems += paypal_problems(capture, ("id", "status", "amount", "create_time",
                                          "seller_receivable_breakdown"), ("amount",),
                                {"id": PAYPAL_ID,
                                 "supplementary_data.related_ids.order_id": PAYPAL_ID})
    problems += paypal_problems(capture["seller_receivable_breakdown"], (
        "gross_amount",), ("gross_amount", "paypal_fee", "net_amount"))
    sub = answers[("GET", "billing/subscriptions")]
    problems += paypal_problems(sub, ("id", "plan_id", "status", "start_time",
                                      "billing_info", "subscriber"), (),
                                {"id": r"^I-[A-Z0-9]{12}$", "plan_id": r"^P-[A-Z0-9]{24}$",
                                 "subscriber.payer_id": PAYER_ID_PATTERN,
                                 "status": r"^(APPROVAL_PENDING|APPROVED|ACTIVE|SUSPENDED|"
                                           r"CANCELLED|EXPIRED)$"})
    problems += paypal_problems(sub["billing_info"]["last_payment"], ("amount", "time"),
                                ("amount",))
    plan = answers[("GET", "billing/plans")]
    problems += paypal_problems(plan["billing_cycles"][0]["pricing_scheme"], ("fixed_price",),
                                ("fixed_price",))
    assert rows, "the transaction search lists the capture, the refund and the sale"
    for row in rows:
        info = row["transaction_info"]
        problems += paypal_problems(info, ("transaction_id", "transaction_event_code",
                                           "transaction_initiation_date",
                                           "transaction_amount", "transaction_status"),
                                    ("transaction_amount", "fee_amount"),
                                    {"transaction_event_code": r"^T\d{4}$",
                                     "transaction_status": r"^[DPSV]$"})
        problems += paypal_problems(row["payer_info"], (), (),
                                    {"account_id": PAYER_ID_PATTERN})
    for event in sb.paypal.events:
        problems += paypal_problems(event, ("id", "event_type", "resource_type", "resource",
                                            "create_time"), (), {"id": r"^WH-[A-Z0-9-]+$"})
    assert problems == []


def test_the_tests_gateway_behaviours_answer_in_the_same_shapes(sb, gateways, accounts):
    """What the tests' old fakes could do, now the sandbox's: tax and a customer's balance on
    an invoice, a declined card holding a change as a pending update, PayPal's plan and
    ?fields=plan reads, a revision waiting for the payer's approval, a trial cycle, faults
    answered in the vendors' error shapes."""
    stripe, paypal = gateways["stripe"], gateways["paypal"]
    ref, psub = accounts["sub"]["id"], accounts["psub"]["id"]
    sb.stripe.tax_rate_bp = 1000
    sb.stripe.customers[accounts["customer"]["id"]]["balance"] = -200
    sb.record = True
    preview = stripe.preview_change(ref, amount_cents=9900, currency="USD", interval="month",
                                    interval_count=1, proration="always_invoice")
    stripe.change_price(ref, 9900, "USD", "month", 1, proration="always_invoice",
                        idempotency_key="shape-tax")
    sb.stripe.declining.add(accounts["customer"]["id"])
    try:
        stripe.change_price(ref, 12900, "USD", "month", 1, proration="always_invoice",
                            idempotency_key="shape-declined")
    except Exception:  # noqa: BLE001 - whatever the adapter makes of it; the answer counts
        pass
    paypal.get_subscription(psub)  # ?fields=plan
    paypal.plan_state(psub, accounts["plan"]["id"])  # GET /v1/billing/plans/…
    sb.paypal.require_approval = True
    plan2 = sb.paypal.plan(name="Gold", amount=2900, currency="USD", interval="month")
    try:
        paypal.change_plan(psub, plan2["id"], proration="none", idempotency_key="pp-approve")
    except Exception:  # noqa: BLE001
        pass
    sb.add_fault("stripe", 429)
    sb.add_fault("paypal", 422)
    for call in (lambda: stripe.cancel(ref, at_period_end=True, idempotency_key="shape-429"),
                 lambda: paypal.pause(psub, None, idempotency_key="pp-422")):
        try:
            call()
        except Exception:  # noqa: BLE001
            pass
    sb.record = False
    problems = []
    assert preview.due_now_cents is not None
    for vendor, method, path, _, status, body in sb.exchanges:
        if vendor == "stripe" and status == 200:
            # a list (the Price looked up by our key) is checked by its objects
            for obj in body["data"] if body.get("object") == "list" else [body]:
                problems += [f"{method} {path}: {p}" for p in stripe_problems(obj)]
        elif vendor == "stripe":
            error = body["error"]
            if not {"type", "message"} <= set(error):
                problems.append(f"{method} {path}: {body} is not a Stripe error")
        elif status >= 400:
            problems += paypal_problems(body, ("name", "message", "debug_id"))
    invoices = [i for i in sb.stripe.invoices.values()
                if i["billing_reason"] == "subscription_update"]
    assert [i["status"] for i in invoices] == ["paid", "open"]
    assert invoices[0]["total_taxes"][0]["amount"] > 0
    assert invoices[0]["starting_balance"] == -200
    for invoice in invoices:
        problems += [f"invoice: {p}" for p in stripe_problems(invoice)]
    held = sb.stripe.subscriptions[ref]
    assert held["pending_update"]["subscription_items"]
    problems += [f"subscription: {p}" for p in stripe_problems(held)]
    for event in sb.stripe.events:
        problems += [f"event {event['type']} object: {p}"
                     for p in stripe_problems(event["data"]["object"])]
    with_plan = next(b for v, m, p, params, s, b in sb.exchanges
                     if v == "paypal" and m == "GET" and p.endswith(psub)
                     and "plan" in (params.get("fields") or ""))
    problems += paypal_problems(with_plan["plan"]["billing_cycles"][0]["pricing_scheme"],
                                ("fixed_price",), ("fixed_price",))
    problems += paypal_problems(with_plan, (), (), {"subscriber.payer_id": PAYER_ID_PATTERN})
    revised = next(b for v, m, p, _, s, b in sb.exchanges
                   if v == "paypal" and p.endswith("/revise"))
    assert [link["rel"] for link in revised["links"]][0] == "approve"
    assert sb.paypal.subscriptions[psub]["plan_id"] == accounts["plan"]["id"]  # not yet
    sb.paypal.approve(psub)
    assert sb.paypal.subscriptions[psub]["plan_id"] == plan2["id"]
    trial = sb.paypal.subscription(plan_id=plan2["id"], payer=accounts["payer"]["payer_id"],
                                   status="ACTIVE", start=sb.now(), next_billing=sb.now() + 1,
                                   trial=True)
    assert [c["sequence"] for c in trial["billing_info"]["cycle_executions"]] == [1, 2]
    assert problems == []
