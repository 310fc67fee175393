"""The sandbox's own controls, shared by its HTTP endpoints (/_sandbox/…), `flask sandbox`
and the owners' Sandbox page: move the clock, decline a renewal, open or decide a dispute."""
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
               "/decline": lambda: decline(sb, body["ref"]),
               "/dispute": lambda: dispute(sb, body["ref"]),
               "/decide": lambda: decide(sb, body["ref"], body.get("won", False))}
    if method == "POST" and path in actions:
        try:
            return 200, actions[path]()
        except KeyError as e:
            return 400, {"error": f"missing {e}"}
    return 404, {"error": f"no sandbox control {method} {path}"}
