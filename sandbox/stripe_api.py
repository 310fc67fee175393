"""Stripe's API (version 2026-10-28) as the panel's adapters call it, with state: customers,
payment intents and their charges, balance transactions, refunds, disputes, prices,
subscriptions (periods on the item), invoices and their previews; events for each change."""
import json
import re
import threading

from sandbox import ids
from sandbox.times import DAY, add_interval

PRORATIONS = ("none", "create_prorations", "always_invoice")
CANCELED_UPDATE = ("A canceled subscription can only update its cancellation_details and "
                   "metadata.")
IDEMPOTENCY_MISMATCH = ("Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        "'{}' if you meant to execute a different request.")
LIST_PATHS = {"customers": "customers", "charges": "charges", "refunds": "refunds",
              "disputes": "disputes", "subscriptions": "subscriptions",
              "invoices": "invoices", "payment_intents": "payment_intents",
              "prices": "prices"}
#: how long Stripe keeps an idempotency key (at least 24 hours; the sandbox: exactly that,
#: on its own clock): a key sent again later is a new request
IDEMPOTENCY_SECONDS = DAY


INVOICE_DEFAULTS = {
    "amount_overpaid": 0, "amount_shipping": 0, "attempt_count": 0, "attempted": False,
    "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
    "collection_method": "charge_automatically", "default_tax_rates": [], "discounts": [],
    "issuer": {"type": "self"}, "livemode": False, "metadata": {},
    "payment_settings": {"default_mandate": None, "payment_method_options": None,
                         "payment_method_types": None},
    "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
    "starting_balance": 0}


def error(message, code=None, param=None, error_type="invalid_request_error", status=400):
    body = {"type": error_type, "message": message}
    if code:
        body["code"] = code
        body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        body["param"] = param
    return status, {"error": body}


SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def _display(amount, currency):
    """An amount in Stripe's units as Stripe's messages write it: $60.00, ISK 500.00."""
    from decimal import Decimal

    from actions.gateways.currencies import rule
    decimals = rule("stripe", currency).decimals
    text = f"{Decimal(int(amount)).scaleb(-decimals):.{decimals}f}"
    symbol = SYMBOLS.get(currency.lower())
    return f"{symbol}{text}" if symbol else f"{currency.upper()} {text}"


def missing(kind, ref, param="id"):
    return error(f"No such {kind}: '{ref}'", "resource_missing", param, status=404)


def nested(pairs):
    """Stripe's form encoding (items[0][price_data][unit_amount]=…) -> nested dicts/lists."""
    root = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


class Stripe:
    """State and routes; every handler runs under the sandbox's lock."""

    def __init__(self, sandbox):
        self.sb = sandbox
        self.customers, self.payment_intents, self.charges = {}, {}, {}
        self.balance_transactions, self.refunds, self.disputes = {}, {}, {}
        self.products, self.prices, self.subscriptions, self.invoices = {}, {}, {}, {}
        self.events = []
        self.decline_next = set()  # subscription ids whose next renewal is declined
        self.declining = set()  # customer ids whose card is declined (every charge)
        #: the account's tax on invoices, in basis points (1000: 10 %), exclusive
        self.tax_rate_bp = 0
        self.effects = []  # (what, subscription id) for every change made to a subscription
        self._replies = {}  # Idempotency-Key -> (signature, answer, when it was first sent)
        #: how Stripe answers the refunds made from now on: "succeeded", or "pending" /
        #: "requires_action" (settled later: settle_refund), "failed", "canceled"; with the
        #: failure_reason of a failed one
        self.refund_status, self.refund_failure_reason = "succeeded", None
        self._lock = threading.RLock()
        sub, ref = r"/v1/subscriptions/(?P<ref>[^/]+)", r"(?P<ref>[^/]+)"
        self.routes = [
            ("POST", r"/v1/refunds", self.create_refund),
            ("GET", rf"/v1/refunds/{ref}", self.get("refunds", "refund")),
            ("GET", rf"/v1/charges/{ref}", self.get("charges", "charge")),
            ("GET", rf"/v1/customers/{ref}", self.get("customers", "customer")),
            ("GET", rf"/v1/disputes/{ref}", self.get("disputes", "dispute")),
            ("GET", rf"/v1/invoices/{ref}", self.get("invoices", "invoice")),
            ("GET", rf"/v1/payment_intents/{ref}", self.get("payment_intents",
                                                            "payment_intent")),
            ("GET", rf"/v1/prices/{ref}", self.get("prices", "price")),
            ("POST", r"/v1/prices", self.create_price),
            ("GET", rf"/v1/balance/history/{ref}", self.get("balance_transactions",
                                                           "balance transaction")),
            ("GET", rf"/v1/balance_transactions/{ref}", self.get("balance_transactions",
                                                                "balance transaction")),
            ("GET", sub, self.get("subscriptions", "subscription")),
            ("POST", sub, self.update_subscription),
            ("DELETE", sub, self.cancel_subscription),
            ("POST", r"/v1/invoices/create_preview", self.preview),
            ("GET", r"/v1/(?P<kind>customers|charges|refunds|disputes|subscriptions|invoices"
                    r"|payment_intents|prices)", self.list),
        ]

    # --- building objects ----------------------------------------------------------------
    def customer(self, *, email, name, country=None, created=None, ref=None, metadata=None):
        cus = {"id": ref or ids.stripe("cus_", 14), "object": "customer",
               "address": {"city": None, "country": country, "line1": None, "line2": None,
                           "postal_code": None, "state": None},
               "balance": 0, "created": created or self.sb.now(), "currency": None,
               "description": None, "email": email, "invoice_prefix": ids.stripe("", 8).upper(),
               "livemode": False, "metadata": dict(metadata or {}), "name": name,
               "phone": None, "preferred_locales": [], "tax_exempt": "none",
               "test_clock": None}
        self.customers[cus["id"]] = cus
        return cus

    def price(self, *, amount, currency, interval, interval_count=1, product=None,
              nickname=None, ref=None, active=True, metadata=None, lookup_key=None):
        if product is None or product not in self.products:
            product = product or ids.stripe("prod_", 14)
            self.products[product] = {"id": product, "object": "product", "active": True,
                                      "name": nickname or "Membership", "livemode": False,
                                      "created": self.sb.now(), "metadata": {}}
        price = {"id": ref or ids.stripe("price_1"), "object": "price", "active": active,
                 "billing_scheme": "per_unit", "created": self.sb.now(),
                 "currency": currency.lower(), "livemode": False, "lookup_key": lookup_key,
                 "metadata": dict(metadata or {}), "nickname": nickname, "product": product,
                 "recurring": {"interval": interval, "interval_count": int(interval_count),
                               "meter": None, "usage_type": "licensed"},
                 "tax_behavior": "unspecified", "type": "recurring",
                 "unit_amount": int(amount), "unit_amount_decimal": str(int(amount))}
        self.prices[price["id"]] = price
        return price

    def balance_transaction(self, *, amount, currency, fee, created, source, type_,
                            rate=None):
        txn = {"id": ids.stripe("txn_3"), "object": "balance_transaction",
               "balance_type": "payments",
               "amount": int(amount), "available_on": created + 2 * DAY, "created": created,
               "currency": currency.lower(), "description": None, "exchange_rate": rate,
               "fee": int(fee or 0), "fee_details": [
                   {"amount": int(fee), "application": None, "currency": currency.lower(),
                    "description": "Stripe processing fees", "type": "stripe_fee"}]
               if fee else [], "net": int(amount) - int(fee or 0),
               "reporting_category": {"charge": "charge", "refund": "refund",
                                      "adjustment": "dispute"}.get(type_, type_),
               "source": source, "status": "available", "type": type_}
        self.balance_transactions[txn["id"]] = txn
        return txn

    def payment(self, *, customer, amount, currency, created, description, status="succeeded",
                settlement=None, pi_ref=None, charge_ref=None, metadata=None, invoice=None,
                guest=None):
        """A PaymentIntent and its charge; settlement = (cents, currency, fee) it paid out.

        Returns the charge."""
        pi_id = pi_ref or ids.stripe("pi_3")
        charge_id = charge_ref or ("ch_3" + pi_id[4:] if pi_id.startswith("pi_3")
                                   else ids.stripe("ch_3"))
        cus = self.customers.get(customer) or {}
        if guest:
            cus = {"email": guest["email"], "name": guest["name"],
                   "address": {"country": guest.get("country")}}
        txn = None
        if status == "succeeded":
            paid_in, net_amount = currency, amount
            fee, rate = round(amount * 0.029) + 30, None
            if settlement:
                net_amount, paid_in, fee = settlement[0], settlement[1], settlement[2] or 0
                rate = round(net_amount / amount, 6) if paid_in.lower() != currency.lower() \
                    and amount else None
            txn = self.balance_transaction(amount=net_amount, currency=paid_in, fee=fee,
                                           created=created, source=charge_id, type_="charge",
                                           rate=rate)["id"]
        charge = {
            "id": charge_id, "object": "charge", "amount": int(amount),
            "amount_captured": int(amount) if status == "succeeded" else 0,
            "amount_refunded": 0, "balance_transaction": txn,
            "billing_details": {"address": {"city": None, "country": (cus.get("address") or {})
                                            .get("country"), "line1": None, "line2": None,
                                            "postal_code": None, "state": None},
                                "email": cus.get("email"), "name": cus.get("name"),
                                "phone": None},
            "captured": status == "succeeded", "created": created, "currency": currency.lower(),
            "customer": customer, "description": description, "disputed": False,
            "failure_code": "card_declined" if status == "failed" else None,
            "failure_message": "Your card was declined." if status == "failed" else None,
            "livemode": False, "metadata": dict(metadata or {}),
            "outcome": {"network_status": "approved_by_network" if status == "succeeded"
                        else "declined_by_network", "risk_level": "normal",
                        "seller_message": "Payment complete." if status == "succeeded"
                        else "The bank did not return any further details with this decline.",
                        "type": "authorized" if status == "succeeded" else "issuer_declined"},
            "paid": status == "succeeded", "payment_intent": pi_id,
            "payment_method_details": {"card": {"brand": "visa", "last4": "4242",
                                                "exp_month": 12, "exp_year": 2030,
                                                "country": "US"}, "type": "card"},
            "receipt_email": cus.get("email"), "receipt_url": None, "refunded": False,
            "status": status}
        self.charges[charge_id] = charge
        self.payment_intents[pi_id] = {
            "id": pi_id, "object": "payment_intent", "amount": int(amount),
            "amount_received": int(amount) if status == "succeeded" else 0,
            "amount_capturable": 0, "capture_method": "automatic_async",
            "confirmation_method": "automatic",
            "created": created, "currency": currency.lower(), "customer": customer,
            "description": description, "latest_charge": charge_id, "livemode": False,
            "metadata": dict(metadata or {}), "payment_method_types": ["card"],
            "status": {"succeeded": "succeeded", "failed": "requires_payment_method"}
            .get(status, "processing")}
        return charge

    def add_refund(self, charge, *, amount, status="succeeded", created, reason=None,
                   ref=None, settlement=None, metadata=None, failure_reason=None):
        refund = {
            "id": ref or ids.stripe("re_3"), "object": "refund", "amount": int(amount),
            "balance_transaction": None, "charge": charge["id"],
            "created": created, "currency": charge["currency"],
            "destination_details": {"card": {"reference_status": "pending",
                                             "reference_type": "acquirer_reference_number",
                                             "type": "refund"}, "type": "card"},
            "metadata": dict(metadata or {}), "payment_intent": charge["payment_intent"],
            "reason": reason, "receipt_number": None, "source_transfer_reversal": None,
            "status": status, "transfer_reversal": None}
        if status == "succeeded":
            self._refund_txn(refund, charge, created, settlement)
        if status == "pending":
            refund["pending_reason"] = "processing"
        if status == "requires_action":
            refund["next_action"] = {"type": "display_details", "display_details": {
                "email_sent": {"email_sent_at": created, "email_sent_to": (
                    charge["billing_details"] or {}).get("email")},
                "expires_at": created + 45 * DAY}}
        if status == "failed":
            refund["failure_reason"] = failure_reason or "expired_or_canceled_card"
            refund["failure_balance_transaction"] = None
        self.refunds[refund["id"]] = refund
        self._refunded(charge)
        return refund

    def _refund_txn(self, refund, charge, created, settlement=None):
        """The refund's balance transaction: what it takes back, in the settlement currency
        of the charge (its share of what the charge settled at, unless given)."""
        bt = self.balance_transactions.get(charge["balance_transaction"] or "")
        paid_in = bt["currency"] if bt else charge["currency"]
        amount = refund["amount"]
        back = settlement if settlement is not None else (
            round(bt["amount"] * amount / charge["amount"]) if bt and charge["amount"]
            else amount)
        txn = self.balance_transaction(amount=-int(back), currency=paid_in, fee=0,
                                       created=created, source=refund["id"], type_="refund")
        refund["balance_transaction"] = txn["id"]
        return txn

    def settle_refund(self, ref, status="succeeded", failure_reason=None):
        """A refund Stripe accepted finishes (pending -> succeeded / failed / canceled), or
        one that succeeded fails after all (the card's bank sends it back), as at Stripe;
        announced by `refund.updated`."""
        refund = self.refunds.get(ref)
        if refund is None:
            raise LookupError(f"Stripe has no refund {ref}")
        if status not in ("succeeded", "failed", "canceled"):
            raise ValueError(f"a refund settles as succeeded, failed or canceled, not {status}")
        before = refund["status"]
        if before in ("failed", "canceled") or before == status:
            raise ValueError(f"refund {ref} is {before} already")
        charge = self.charges[refund["charge"]]
        refund["status"] = status
        refund.pop("pending_reason", None)
        refund.pop("next_action", None)
        if status == "succeeded" and not refund["balance_transaction"]:
            self._refund_txn(refund, charge, self.sb.now())
        if status == "failed":
            refund["failure_reason"] = failure_reason or "expired_or_canceled_card"
            refund["failure_balance_transaction"] = None
            txn = self.balance_transactions.get(refund["balance_transaction"] or "")
            if txn:  # the money comes back to the account
                refund["failure_balance_transaction"] = self.balance_transaction(
                    amount=-txn["amount"], currency=txn["currency"], fee=0,
                    created=self.sb.now(), source=ref, type_="refund_failure")["id"]
        self._refunded(charge)
        self.sb.stripe_event("refund.updated", refund, {"status": before})
        return refund

    def forget_idempotency_keys(self):
        """Stripe's idempotency window (at least 24 h) is over: a key sent again is a new
        request."""
        self._replies.clear()

    def _refunded(self, charge):
        done = sum(r["amount"] for r in self.refunds.values()
                   if r["charge"] == charge["id"] and r["status"] in ("succeeded", "pending",
                                                                      "requires_action"))
        charge["amount_refunded"] = done
        charge["refunded"] = done >= charge["amount"]

    def subscription(self, *, customer, price, status, start, period_start, period_end,
                     cancel_at_period_end=False, canceled_at=None, ended_at=None,
                     ref=None, metadata=None, paused=None):
        sub_id = ref or ids.stripe("sub_1")
        item = {"id": ids.stripe("si_", 14), "object": "subscription_item",
                "created": start, "current_period_end": period_end,
                "current_period_start": period_start, "discounts": [], "metadata": {},
                "price": price, "quantity": 1, "subscription": sub_id, "tax_rates": []}
        sub = {"id": sub_id, "object": "subscription", "application": None,
               "automatic_tax": {"enabled": False, "liability": None},
               "billing_cycle_anchor": period_start, "billing_mode": {"type": "flexible"},
               "billing_schedules": [],
               "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
               "cancel_at": period_end if cancel_at_period_end else None,
               "cancel_at_period_end": bool(cancel_at_period_end),
               "canceled_at": canceled_at, "cancellation_details": {
                   "comment": None, "feedback": None,
                   "reason": "cancellation_requested" if canceled_at else None},
               "collection_method": "charge_automatically", "created": start,
               "currency": price["currency"], "customer": customer,
               "days_until_due": None, "default_payment_method": None, "discounts": [],
               "ended_at": ended_at,
               "items": {"object": "list", "data": [item], "has_more": False,
                         "total_count": 1,
                         "url": f"/v1/subscription_items?subscription={sub_id}"},
               "latest_invoice": None, "livemode": False, "metadata": dict(metadata or {}),
               "pause_collection": paused, "start_date": start, "status": status,
               "test_clock": None, "trial_end": period_end if status == "trialing" else None,
               "trial_start": period_start if status == "trialing" else None}
        self.subscriptions[sub_id] = sub
        return sub

    def invoice(self, sub, charge, *, description, period):
        """A paid invoice of a subscription period, paid by `charge`."""
        price = sub["items"]["data"][0]["price"]
        inv = {"id": ids.stripe("in_1"), "object": "invoice", "amount_due": charge["amount"],
               "amount_paid": charge["amount"] if charge["paid"] else 0,
               "amount_remaining": 0 if charge["paid"] else charge["amount"],
               **INVOICE_DEFAULTS, "attempt_count": 1, "attempted": True,
               "billing_reason": "subscription_cycle",
               "collection_method": "charge_automatically", "created": charge["created"],
               "currency": charge["currency"], "customer": sub["customer"],
               "customer_email": charge["billing_details"]["email"],
               "customer_name": charge["billing_details"]["name"], "livemode": False,
               "lines": {"object": "list", "has_more": False, "data": [{
                   "id": ids.stripe("il_1"), "object": "line_item",
                   "amount": charge["amount"], "currency": charge["currency"],
                   "description": description, "period": {"start": period[0],
                                                          "end": period[1]},
                   "parent": {"type": "subscription_item_details",
                              "subscription_item_details": {
                                  "proration": False, "subscription": sub["id"],
                                  "subscription_item": sub["items"]["data"][0]["id"]}},
                   "pricing": {"type": "price_details", "price_details": {
                       "price": price["id"], "product": price["product"]}},
                   "quantity": 1}]},
               "metadata": {}, "number": None,
               "parent": {"type": "subscription_details", "subscription_details": {
                   "metadata": dict(sub["metadata"]), "subscription": sub["id"]}},
               "payments": {"object": "list", "has_more": False, "data": [{
                   "object": "invoice_payment", "amount_paid": charge["amount"]
                   if charge["paid"] else None, "status": "paid" if charge["paid"] else "open",
                   "payment": {"type": "payment_intent",
                               "payment_intent": charge["payment_intent"]}}]},
               "period_end": period[1], "period_start": period[0],
               "status": "paid" if charge["paid"] else "open",
               "status_transitions": {"paid_at": charge["created"] if charge["paid"] else None,
                                      "finalized_at": charge["created"]},
               "subtotal": charge["amount"], "total": charge["amount"], "total_taxes": []}
        self.invoices[inv["id"]] = inv
        sub["latest_invoice"] = inv["id"]
        return inv

    # --- routes ---------------------------------------------------------------------------
    def authorized(self, request):
        return request.headers.get("Authorization") == f"Bearer {self.sb.stripe_key}"

    def get(self, store, kind):
        def handler(request, params, ref):
            obj = getattr(self, store).get(ref)
            return (200, obj) if obj is not None else missing(kind, ref)
        return handler

    def list(self, request, params, kind):
        rows = list(getattr(self, LIST_PATHS[kind]).values())
        for field in ("charge", "customer", "payment_intent", "subscription"):
            if params.get(field):
                rows = [r for r in rows if r.get(field) == params[field]]
        if kind == "prices":
            for field in ("product", "currency"):
                if params.get(field):
                    rows = [r for r in rows if r.get(field) == params[field]]
            if params.get("active") in ("true", "false"):
                rows = [r for r in rows if r["active"] == (params["active"] == "true")]
            keys = params.get("lookup_keys")
            if keys is not None:
                keys = keys if isinstance(keys, list) else [keys]
                rows = [r for r in rows if r.get("lookup_key") in keys]
        if kind == "subscriptions":
            status = params.get("status")
            if status != "all":
                rows = [r for r in rows if r["status"] == status] if status else \
                    [r for r in rows if r["status"] != "canceled"]
        created = params.get("created")
        if isinstance(created, dict):
            for op, test in (("gte", int.__ge__), ("gt", int.__gt__), ("lte", int.__le__),
                             ("lt", int.__lt__)):
                if op in created:
                    rows = [r for r in rows if test(r["created"], int(created[op]))]
        rows.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
        if params.get("starting_after"):
            ids_ = [r["id"] for r in rows]
            if params["starting_after"] not in ids_:
                return missing("object", params["starting_after"], "starting_after")
            rows = rows[ids_.index(params["starting_after"]) + 1:]
        limit = max(1, min(100, int(params.get("limit", 10))))
        page = rows[:limit]
        expand = params.get("expand") or []
        expand = expand if isinstance(expand, list) else [expand]
        if "data.balance_transaction" in expand:  # Stripe's expand[] on a list (one level)
            page = [{**r, "balance_transaction": self.balance_transactions.get(
                r["balance_transaction"], r["balance_transaction"])}
                if isinstance(r.get("balance_transaction"), str) else r for r in page]
        return 200, {"object": "list", "url": f"/v1/{kind}", "data": page,
                     "has_more": len(rows) > limit}

    def idempotent(self, request, params, act):
        """Stripe's idempotency: the same key and parameters replay the first answer, for
        IDEMPOTENCY_SECONDS of the sandbox's clock; later the key is a new request."""
        key = request.headers.get("Idempotency-Key")
        signature = (request.method, request.path, json.dumps(params, sort_keys=True))
        if key and key in self._replies:
            stored, answer, at = self._replies[key]
            if self.sb.now() - at >= IDEMPOTENCY_SECONDS:
                del self._replies[key]  # pruned
            elif stored != signature:
                return error(IDEMPOTENCY_MISMATCH.format(key), error_type="idempotency_error")
            else:
                return answer
        answer = act()
        if key and answer[0] < 500:
            self._replies[key] = (signature, answer, self.sb.now())
        return answer

    def create_refund(self, request, params):
        return self.idempotent(request, params, lambda: self._create_refund(params))

    def _create_refund(self, params):
        charge = None
        if params.get("payment_intent"):
            pi = self.payment_intents.get(params["payment_intent"])
            if pi is None:
                return missing("payment_intent", params["payment_intent"], "payment_intent")
            charge = self.charges.get(pi["latest_charge"])
        elif params.get("charge"):
            charge = self.charges.get(params["charge"])
            if charge is None:
                return missing("charge", params["charge"], "charge")
        else:
            return error("One of the following params should be provided for this request: "
                         "payment_intent or charge.")
        if not charge["paid"]:
            return error(f"This charge {charge['id']} has no funds to refund.",
                         "charge_not_refundable")
        if charge["disputed"]:
            return error(f"Charge {charge['id']} has been charged back; cannot issue a "
                         "refund.", "charge_disputed")
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            return error(f"Charge {charge['id']} has already been refunded.",
                         "charge_already_refunded")
        amount = int(params.get("amount", left))
        if amount <= 0:
            return error("Invalid positive integer", "parameter_invalid_integer", "amount")
        if amount > left:
            return error(f"Refund amount ({_display(amount, charge['currency'])}) is greater "
                         f"than unrefunded amount on charge "
                         f"({_display(left, charge['currency'])})", "amount_too_large",
                         "amount")
        reason = params.get("reason")
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            return error("Invalid reason", "parameter_invalid_empty", "reason")
        refund = self.add_refund(charge, amount=amount, created=self.sb.now(), reason=reason,
                                 metadata=params.get("metadata"), status=self.refund_status,
                                 failure_reason=self.refund_failure_reason)
        self.sb.stripe_event("charge.refunded", charge)
        self.sb.stripe_event("refund.created", refund)
        return 200, refund

    def create_price(self, request, params):
        return self.idempotent(request, params, lambda: self._create_price(params))

    def _create_price(self, params):
        """A recurring Price on an existing product (what a price change creates)."""
        if params.get("product") not in self.products:
            return missing("product", params.get("product"), "product")
        amount, recurring = str(params.get("unit_amount", "")), params.get("recurring")
        if not amount.isdigit():
            return error("Invalid integer: " + amount, "parameter_invalid_integer",
                         "unit_amount")
        if not isinstance(recurring, dict) or recurring.get("interval") not in (
                "day", "week", "month", "year"):
            return error("Missing required param: recurring[interval].",
                         "parameter_missing", "recurring[interval]")
        if not params.get("currency"):
            return error("Missing required param: currency.", "parameter_missing",
                         "currency")
        metadata = params.get("metadata") if isinstance(params.get("metadata"), dict) else {}
        lookup_key = params.get("lookup_key") or None
        holder = next((p for p in self.prices.values()
                       if lookup_key and p["lookup_key"] == lookup_key), None)
        if holder is not None:  # a lookup key names one Price (unless transferred)
            if params.get("transfer_lookup_key") != "true":
                return error(f"A price ({holder['id']}) already uses that lookup key.",
                             "lookup_key_exists", "lookup_key")
            holder["lookup_key"] = None
        return 200, self.price(amount=int(amount), currency=params["currency"],
                               interval=recurring["interval"],
                               interval_count=int(recurring.get("interval_count", 1)),
                               product=params["product"], nickname=params.get("nickname"),
                               metadata=metadata, lookup_key=lookup_key)

    def _subscription_or_404(self, ref):
        sub = self.subscriptions.get(ref)
        return sub, (None if sub else missing("subscription", ref))

    def update_subscription(self, request, params, ref):
        sub, problem = self._subscription_or_404(ref)
        if problem:
            return problem
        return self.idempotent(request, params, lambda: self._update(sub, params))

    def _update(self, sub, params):
        if sub["status"] == "canceled" and set(params) - {"metadata",
                                                          "cancellation_details"}:
            return error(CANCELED_UPDATE)
        before = json.loads(json.dumps(sub))
        item = sub["items"]["data"][0]
        items = params.get("items") or []
        new_price = None
        if items:
            new_price, problem = self._price_from(items[0], item)
            if problem:
                return problem
        proration = params.get("proration_behavior", "create_prorations")
        if proration not in PRORATIONS:
            return error("Invalid proration_behavior: must be one of "
                         + ", ".join(PRORATIONS), param="proration_behavior")
        if new_price:
            when = int(params.get("proration_date") or self.sb.now())
            lines = self._proration_lines(sub, new_price, proration, when)
            if proration == "always_invoice" and lines:
                figures = self.figures(sub["customer"], lines)
                declined = figures["amount_due"] > 0 and sub["customer"] in self.declining
                behavior = params.get("payment_behavior", "allow_incomplete")
                if declined and behavior == "error_if_incomplete":
                    return error("Your card was declined.", "card_declined",
                                 error_type="card_error", status=402)
                self._invoice_now(sub, lines, figures, paid=not declined)
                if declined and behavior == "pending_if_incomplete":
                    sub["pending_update"] = {
                        "billing_cycle_anchor": None, "expires_at": self.sb.now() + 23 * 3600,
                        "subscription_items": [dict(item, price=new_price)],
                        "trial_end": None, "trial_from_plan": None}
                    self.effects.append(("pending_update", sub["id"]))
                    self.sb.stripe_event("customer.subscription.updated", sub,
                                         {"pending_update": None})
                    return 200, sub
                if declined:  # allow_incomplete: the change stands, the invoice stays open
                    sub["status"] = "past_due"
            item["price"] = new_price
            self.effects.append(("price", sub["id"]))
        if "cancel_at_period_end" in params:
            flag = params["cancel_at_period_end"] == "true"
            sub["cancel_at_period_end"] = flag
            sub["cancel_at"] = item["current_period_end"] if flag else None
            sub["canceled_at"] = self.sb.now() if flag else None
            sub["cancellation_details"]["reason"] = "cancellation_requested" if flag else None
            self.effects.append(("cancel_at_period_end" if flag else "undo_cancel", sub["id"]))
        if "pause_collection" in params:
            pause = params["pause_collection"]
            if pause in ("", None):
                sub["pause_collection"] = None
                self.effects.append(("resume", sub["id"]))
            else:
                resumes = pause.get("resumes_at")
                sub["pause_collection"] = {"behavior": pause.get("behavior", "void"),
                                           "resumes_at": int(resumes) if resumes else None}
                self.effects.append(("pause", sub["id"]))
        if isinstance(params.get("metadata"), dict):
            sub["metadata"].update(params["metadata"])
        changed = {k: before[k] for k in sub if sub[k] != before.get(k)}
        if changed:
            self.sb.stripe_event("customer.subscription.updated", sub, changed)
        return 200, sub

    def figures(self, customer, lines):
        """An invoice's figures as Stripe computes them: the account's tax on a positive
        subtotal, then the customer's balance (negative: a credit) applied to what is due."""
        subtotal = sum(line["amount"] for line in lines)
        tax = round(subtotal * self.tax_rate_bp / 10000) if subtotal > 0 else 0
        total = subtotal + tax
        balance = (self.customers.get(customer) or {}).get("balance", 0)
        due = max(total + balance, 0) if total > 0 else 0
        taxes = [{"amount": tax, "tax_behavior": "exclusive",
                  "tax_rate_details": {"tax_rate": "txr_sandbox"},
                  "taxability_reason": "standard_rated", "taxable_amount": subtotal,
                  "type": "tax_rate_details"}] if tax else []
        return {"subtotal": subtotal, "subtotal_excluding_tax": subtotal, "total": total,
                "total_excluding_tax": subtotal, "total_taxes": taxes, "amount_due": due,
                "starting_balance": balance,
                "ending_balance": balance + total - due if total > 0 else balance + total}

    def _invoice_now(self, sub, lines, figures, paid=True):
        """always_invoice: the proration is invoiced at once; what is due is charged (a
        declined card: the invoice stays open), a credit goes to the customer's balance."""
        price = sub["items"]["data"][0]["price"]
        due = figures["amount_due"]
        if due > 0:
            charge = self.payment(customer=sub["customer"], amount=due,
                                  currency=price["currency"], created=self.sb.now(),
                                  description="Subscription update",
                                  status="succeeded" if paid else "failed")
        else:  # nothing to charge: an invoice without a payment
            cus = self.customers.get(sub["customer"]) or {}
            charge = {"amount": 0, "paid": True, "created": self.sb.now(),
                      "currency": price["currency"], "payment_intent": None,
                      "billing_details": {"email": cus.get("email"), "name": cus.get("name")}}
        inv = self.invoice(sub, charge, description="Subscription update",
                           period=(self.sb.now(), sub["items"]["data"][0]
                                   ["current_period_end"]))
        if due <= 0:
            inv["payments"]["data"] = []
        inv.update(figures, billing_reason="subscription_update",
                   amount_paid=due if paid else 0, amount_remaining=0 if paid else due,
                   status="paid" if paid else "open")
        inv["status_transitions"]["paid_at"] = self.sb.now() if paid else None
        inv["lines"]["data"] = lines
        if sub["customer"] in self.customers:
            self.customers[sub["customer"]]["balance"] = figures["ending_balance"]
        if due > 0:
            self.sb.stripe_event("charge.succeeded" if paid else "charge.failed", charge)
        self.sb.stripe_event("invoice.paid" if paid else "invoice.payment_failed", inv)
        return inv

    def _price_from(self, spec, item):
        if spec.get("id") and spec["id"] != item["id"]:
            return None, error(f"No such subscription item: '{spec['id']}'",
                               "resource_missing", "items[0][id]")
        if spec.get("price"):
            price = self.prices.get(spec["price"])
            if price is None:
                return None, error(f"No such price: '{spec['price']}'", "resource_missing",
                                   "items[0][price]")
            return price, None
        data = spec.get("price_data")
        if data:
            if data.get("product") != item["price"]["product"]:
                return None, error(f"No such product: '{data.get('product')}'",
                                   "resource_missing", "items[0][price_data][product]")
            recurring = data.get("recurring") or {}
            price = self.price(amount=int(data["unit_amount"]), currency=data["currency"],
                               interval=recurring.get("interval", "month"),
                               interval_count=int(recurring.get("interval_count", 1)),
                               product=data["product"],
                               nickname=item["price"].get("nickname"), active=False)
            return price, None
        return None, None

    def _proration_lines(self, sub, new_price, proration, when):
        if proration == "none":
            return []
        item = sub["items"]["data"][0]
        start, end = item["current_period_start"], item["current_period_end"]
        share = max(0, end - when) / max(1, end - start)
        old = item["price"]
        return [self._line(-round(old["unit_amount"] * share), old, True, when, end,
                           f"Unused time on {old.get('nickname') or 'plan'}"),
                self._line(round(new_price["unit_amount"] * share), new_price, True, when,
                           end, f"Remaining time on {new_price.get('nickname') or 'plan'}")]

    def _line(self, amount, price, proration, start, end, description):
        return {"id": ids.stripe("il_tmp_"), "object": "line_item", "amount": amount,
                "currency": price["currency"], "description": description,
                "period": {"start": start, "end": end},
                "parent": {"type": "subscription_item_details",
                           "subscription_item_details": {"proration": proration}},
                "pricing": {"type": "price_details",
                            "price_details": {"price": price["id"],
                                              "product": price["product"]}},
                "quantity": 1}

    def preview(self, request, params):
        sub = self.subscriptions.get(params.get("subscription"))
        if sub is None:
            return missing("subscription", params.get("subscription"), "subscription")
        details = params.get("subscription_details") or {}
        item = sub["items"]["data"][0]
        new_price = None
        if details.get("items"):
            new_price, problem = self._price_from(details["items"][0], item)
            if problem:
                return problem
        proration = details.get("proration_behavior", "create_prorations")
        if proration not in PRORATIONS:
            return error("Invalid proration_behavior", param="proration_behavior")
        price = new_price or item["price"]
        lines = self._proration_lines(sub, price, proration,
                                      int(details.get("proration_date") or self.sb.now()))
        if proration != "always_invoice":
            end = item["current_period_end"]
            recurring = price["recurring"]
            lines.append(self._line(price["unit_amount"], price, False, end,
                                    add_interval(end, recurring["interval"],
                                                 recurring["interval_count"]),
                                    f"1 × {price.get('nickname') or 'plan'}"))
        if new_price and not new_price["active"]:
            self.prices.pop(new_price["id"], None)  # a preview creates nothing
        figures = self.figures(sub["customer"], lines)
        return 200, {**INVOICE_DEFAULTS, "id": None, "object": "invoice",
                     "created": self.sb.now(), "currency": price["currency"],
                     "amount_paid": 0, "amount_remaining": figures["amount_due"],
                     "billing_reason": "upcoming", "status": "draft",
                     "status_transitions": {"paid_at": None, "finalized_at": None},
                     "period_start": item["current_period_start"],
                     "period_end": item["current_period_end"], "payments": {
                         "object": "list", "data": [], "has_more": False},
                     "customer": sub["customer"], **figures,
                     "lines": {"object": "list", "data": lines, "has_more": False},
                     "parent": {"type": "subscription_details",
                                "subscription_details": {"subscription": sub["id"]}}}

    def cancel_subscription(self, request, params, ref):
        sub, problem = self._subscription_or_404(ref)
        if problem:
            return problem

        def act():
            if sub["status"] == "canceled":
                return missing("subscription", ref)
            self._end(sub, self.sb.now())
            self.effects.append(("cancel", sub["id"]))
            return 200, sub
        return self.idempotent(request, params, act)

    def _end(self, sub, when, canceled_at=None):
        sub.update(status="canceled", ended_at=when,
                   canceled_at=sub["canceled_at"] or canceled_at or when, cancel_at=None)
        self.sb.stripe_event("customer.subscription.deleted", sub)

    # --- the clock --------------------------------------------------------------------------
    def due(self, until):
        """(when, subscription id) of every period end that falls due by `until`."""
        for sub in self.subscriptions.values():
            if sub["status"] in ("active", "trialing", "past_due"):
                end = sub["items"]["data"][0]["current_period_end"]
                if end <= until:
                    yield end, sub["id"]

    def fall_due(self, ref, when):
        """A period ends: the scheduled end takes effect, or the next period is charged
        (declined: past due), or, paused, not charged."""
        sub = self.subscriptions[ref]
        item = sub["items"]["data"][0]
        if sub["cancel_at_period_end"] or (sub["cancel_at"] and sub["cancel_at"] <= when):
            self._end(sub, when)
            return [f"Stripe {ref}: cancelled at the end of its period"]
        price = item["price"]
        recurring = price["recurring"]
        start, end = when, add_interval(when, recurring["interval"],
                                        recurring["interval_count"])
        before = {"status": sub["status"]}
        item.update(current_period_start=start, current_period_end=end)
        resumes = (sub["pause_collection"] or {}).get("resumes_at")
        if resumes and resumes <= when:  # Stripe resumes collection on the date it was given
            sub["pause_collection"] = None
            before["pause_collection"] = {"behavior": "void", "resumes_at": resumes}
        if sub["pause_collection"]:
            self.sb.stripe_event("customer.subscription.updated", sub,
                                 {"items": {"data": [{"current_period_end": start}]}})
            return [f"Stripe {ref}: paused, period not charged"]
        declined = ref in self.decline_next
        self.decline_next.discard(ref)
        name = price.get("nickname") or "Subscription"
        charge = self.payment(customer=sub["customer"], amount=price["unit_amount"],
                              currency=price["currency"], created=when,
                              description=f"{name} — renewal",
                              status="failed" if declined else "succeeded",
                              metadata=sub["metadata"])
        inv = self.invoice(sub, charge, description=f"{name} — renewal", period=(start, end))
        if declined:
            sub["status"] = "past_due"
            self.sb.stripe_event("charge.failed", charge)
            self.sb.stripe_event("invoice.payment_failed", inv)
            self.sb.stripe_event("customer.subscription.updated", sub, before)
            return [f"Stripe {ref}: renewal declined, past due"]
        sub["status"] = "active"
        self.sb.stripe_event("charge.succeeded", charge)
        self.sb.stripe_event("invoice.paid", inv)
        self.sb.stripe_event("customer.subscription.updated", sub,
                             {"items": {"data": [{"current_period_end": start}]}, **before})
        return [f"Stripe {ref}: renewed, {price['unit_amount']} {price['currency']} charged"]

    # --- disputes -------------------------------------------------------------------------------
    def open_dispute(self, charge_ref, reason="fraudulent"):
        charge = self.charges.get(charge_ref) or self.charges.get(
            (self.payment_intents.get(charge_ref) or {}).get("latest_charge"))
        if charge is None or not charge["paid"]:
            raise LookupError(f"Stripe has no paid charge {charge_ref}")
        bt = self.balance_transactions.get(charge["balance_transaction"] or "")
        paid_in = bt["currency"] if bt else charge["currency"]
        amount = charge["amount"] - charge["amount_refunded"]
        back = round(bt["amount"] * amount / charge["amount"]) if bt else amount
        txn = self.balance_transaction(amount=-back - 1500, currency=paid_in, fee=1500,
                                       created=self.sb.now(), source=None, type_="adjustment")
        dispute = {"id": ids.stripe("dp_1"), "object": "dispute", "amount": amount,
                   "balance_transactions": [txn], "charge": charge["id"],
                   "created": self.sb.now(), "currency": charge["currency"],
                   "evidence_details": {"due_by": self.sb.now() + 7 * DAY,
                                        "has_evidence": False, "past_due": False,
                                        "submission_count": 0, "enhanced_eligibility": {},
                                        "submission_method": None},
                   "enhanced_eligibility_types": [], "evidence": {
                       "access_activity_log": None, "billing_address": None,
                       "cancellation_policy": None, "customer_email_address": None,
                       "customer_name": None, "product_description": None,
                       "uncategorized_text": None, "enhanced_evidence": {}},
                   "is_charge_refundable": False, "livemode": False, "metadata": {},
                   "payment_intent": charge["payment_intent"], "reason": reason,
                   "status": "needs_response"}
        txn["source"] = dispute["id"]
        charge["disputed"] = True
        self.disputes[dispute["id"]] = dispute
        self.sb.stripe_event("charge.dispute.created", dispute)
        return dispute

    def decide_dispute(self, dispute_ref, won):
        dispute = self.disputes[dispute_ref]
        dispute["status"] = "won" if won else "lost"
        if won:
            first = dispute["balance_transactions"][0]
            dispute["balance_transactions"].append(self.balance_transaction(
                amount=-first["amount"] - first["fee"], currency=first["currency"], fee=0,
                created=self.sb.now(), source=dispute["id"], type_="adjustment"))
        self.sb.stripe_event("charge.dispute.closed", dispute)
        return dispute
