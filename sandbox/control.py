"""The sandbox's own controls, shared by its HTTP endpoints (/_sandbox/…), `flask sandbox`
and the owners' Sandbox page: move the clock, decline a renewal, open or decide a dispute;
and the tests' controls: seed a payment, make refunds pending and settle them, inject
errors, forget idempotency keys / PayPal request ids, revoke PayPal's tokens."""
from sandbox import ids
from sandbox.times import DAY


def vendor_of(ref):
    """"stripe" for sub_/ch_/pi_/dp_ ids, else "paypal"."""
    return "stripe" if str(ref).split("_", 1)[0] in ("sub", "ch", "pi", "dp", "py") \
        else "paypal"


def advance(sb, days=0, seconds=0, wait=60):
    happened = sb.advance(int(float(days) * DAY) + int(seconds))
    delivered = sb.deliveries.drain(wait)
    return {"now": sb.now(), "offset_days": round(sb.offset / DAY, 2), "happened": happened,
            "webhooks_delivered": delivered}


def decline(sb, ref):
    with sb.lock:
        vendor = vendor_of(ref)
        subs = getattr(sb, vendor).subscriptions
        if ref not in subs:
            raise LookupError(f"the sandbox has no subscription {ref}")
        getattr(sb, vendor).decline_next.add(ref)
    return {"declined_next_renewal": ref}


def dispute(sb, ref, wait=30):
    with sb.lock:
        found = getattr(sb, vendor_of(ref)).open_dispute(ref)
    sb.deliveries.drain(wait)
    return found


def decide(sb, ref, won, wait=30):
    with sb.lock:
        vendor = "stripe" if str(ref).startswith("dp_") else "paypal"
        found = getattr(sb, vendor).decide_dispute(ref, bool(won))
    sb.deliveries.drain(wait)
    return found


def seed_payment(sb, vendor, ref=None, amount=5000, currency="USD", created=None,
                 description="Payment", settlement=None, metadata=None):
    """A succeeded payment at `vendor` (amount in the vendor's units as its API writes
    them: Stripe's integer, PayPal's minor units of the currency); a Stripe `ref` pi_… names
    the PaymentIntent, ch_… / py_… the charge; PayPal's the capture. Returns the Stripe
    charge or the PayPal capture."""
    with sb.lock:
        created = int(created or sb.now())
        if vendor == "stripe":
            ref = ref or ids.stripe("pi_3")
            if ref in sb.stripe.payment_intents or ref in sb.stripe.charges:
                raise ValueError(f"Stripe has a payment {ref} already")
            return sb.stripe.payment(
                customer=None, guest={"email": "payer@example.com", "name": "Sandbox Payer"},
                amount=int(amount), currency=currency.lower(), created=created,
                description=description, settlement=settlement,
                pi_ref=ref if ref.startswith("pi_") else None,
                charge_ref=ref if ref.startswith(("ch_", "py_")) else None,
                metadata=metadata)
        if ref in sb.paypal.captures:
            raise ValueError(f"PayPal has a capture {ref} already")
        payer = sb.paypal.payer(email="payer@example.com", name="Sandbox Payer")
        return sb.paypal.capture(payer=payer["payer_id"], amount=int(amount),
                                 currency=currency.upper(), created=created,
                                 description=description, settlement=settlement, ref=ref)


def refund_status(sb, vendor, status, failure_reason=None):
    """The refunds `vendor` makes from now on answer `status` (Stripe: succeeded, pending,
    requires_action, failed, canceled; PayPal: COMPLETED, PENDING, FAILED)."""
    allowed = {"stripe": ("succeeded", "pending", "requires_action", "failed", "canceled"),
               "paypal": ("COMPLETED", "PENDING", "FAILED")}[vendor]
    if status not in allowed:
        raise ValueError(f"{vendor} refunds are {', '.join(allowed)}, not {status}")
    with sb.lock:
        if vendor == "stripe":
            sb.stripe.refund_status, sb.stripe.refund_failure_reason = status, failure_reason
        else:
            sb.paypal.refund_status = status
    return {"refund_status": status}


def settle_refund(sb, ref, status, failure_reason=None, wait=30):
    """A pending refund finishes (Stripe re_…: succeeded / failed / canceled; PayPal:
    COMPLETED / FAILED / CANCELLED), announced by the vendor's webhook."""
    with sb.lock:
        if str(ref).startswith("re_"):
            found = sb.stripe.settle_refund(ref, status, failure_reason)
        else:
            found = sb.paypal.settle_refund(ref, status)
    sb.deliveries.drain(wait)
    return found


def forget_keys(sb, vendor):
    """The vendor's idempotency window is over (Stripe's 24 h; PayPal's request ids)."""
    with sb.lock:
        if vendor == "stripe":
            sb.stripe.forget_idempotency_keys()
        else:
            sb.paypal.forget_request_ids()
    return {"forgot": vendor}


def revoke_tokens(sb):
    with sb.lock:
        sb.paypal.revoke_tokens()
    return {"revoked": "paypal"}


def fault(sb, body):
    """{"vendor", "fault": one of sandbox.core.FAULTS} or {"vendor", "status", fields…,
    "headers"}: the vendor's answer to the next `times` changes (reads: reads)."""
    vendor, times, reads = body["vendor"], int(body.get("times", 1)), bool(body.get("reads"))
    if "fault" in body:
        sb.add_fault(vendor, body["fault"], times, reads=reads)
    else:
        fields = {k: body[k] for k in ("error_type", "code", "message", "param", "name",
                                       "issue", "description") if k in body}
        sb.fail(vendor, body["status"], times=times, reads=reads,
                headers=body.get("headers"), **fields)
    return {"queued": times}


def state(sb):
    with sb.lock:
        return {
            "now": sb.now(), "offset_days": round(sb.offset / DAY, 2),
            "stripe": {kind: len(getattr(sb.stripe, kind)) for kind in (
                "customers", "charges", "refunds", "disputes", "subscriptions")},
            "paypal": {kind: len(getattr(sb.paypal, kind)) for kind in (
                "payers", "captures", "sales", "refunds", "disputes", "subscriptions")},
            "webhooks_sent": len(sb.deliveries.log),
            "webhooks_failed": sum(1 for d in sb.deliveries.log
                                   if not (isinstance(d[3], int) and d[3] < 300)),
            "open_disputes": [d["id"] for d in sb.stripe.disputes.values()
                              if d["status"] not in ("won", "lost")]
            + [d["dispute_id"] for d in sb.paypal.disputes.values()
               if d["status"] != "RESOLVED"]}


def handle(sb, method, path, body):
    if method == "GET" and path == "/state":
        return 200, state(sb)
    actions = {"/advance": lambda: advance(sb, body.get("days", 0), body.get("seconds", 0)),
               "/seed_payment": lambda: seed_payment(
                   sb, body["vendor"], body.get("ref"), body.get("amount", 5000),
                   body.get("currency", "USD"), body.get("created"),
                   body.get("description", "Payment")),
               "/refund_status": lambda: refund_status(sb, body["vendor"], body["status"],
                                                       body.get("failure_reason")),
               "/settle_refund": lambda: settle_refund(sb, body["ref"], body["status"],
                                                       body.get("failure_reason")),
               "/forget_keys": lambda: forget_keys(sb, body["vendor"]),
               "/revoke_tokens": lambda: revoke_tokens(sb),
               "/fault": lambda: fault(sb, body),
               "/release": lambda: sb.release() or {"released": True},
               "/decline": lambda: decline(sb, body["ref"]),
               "/dispute": lambda: dispute(sb, body["ref"]),
               "/decide": lambda: decide(sb, body["ref"], body.get("won", False))}
    if method == "POST" and path in actions:
        try:
            return 200, actions[path]()
        except KeyError as e:
            return 400, {"error": f"missing {e}"}
    return 404, {"error": f"no sandbox control {method} {path}"}
