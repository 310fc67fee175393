"""PayPal's REST API as the panel's adapters call it (OAuth2, Payments v2 captures and
refunds, Orders v2, Subscriptions v1, v1 sales, Transaction Search, webhook verification),
with state; ids in PayPal's published formats; events for each change."""
import hmac
import json
from decimal import ROUND_HALF_UP, Decimal

from actions.gateways.currencies import from_paypal, to_paypal
from sandbox import ids
from sandbox.signing import paypal_signature
from sandbox.times import DAY, add_interval, iso, parse_iso

NO_DECIMALS = ("HUF", "JPY", "TWD")
MESSAGES = {
    "UNPROCESSABLE_ENTITY": "The requested action could not be performed, semantically "
                            "incorrect, or failed business validation.",
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates "
                       "schema.",
    "INTERNAL_SERVER_ERROR": "An internal server error occurred.",
    "RATE_LIMIT_REACHED": "Too many requests. Blocked due to rate limiting.",
    "RESOURCE_CONFLICT": "The server has detected a conflict while processing this request.",
    "SERVICE_UNAVAILABLE": "Service Unavailable.",
    "NOT_AUTHORIZED": "Authorization failed due to insufficient permissions.",
}
ALLOWED = {"cancel": ("ACTIVE", "SUSPENDED"), "suspend": ("ACTIVE",),
           "activate": ("SUSPENDED",), "revise": ("ACTIVE", "SUSPENDED")}
NEW_STATUS = {"cancel": "CANCELLED", "suspend": "SUSPENDED", "activate": "ACTIVE"}
EVENTS = {"cancel": "BILLING.SUBSCRIPTION.CANCELLED", "suspend": "BILLING.SUBSCRIPTION.SUSPENDED",
          "activate": "BILLING.SUBSCRIPTION.ACTIVATED"}


def decimals(currency):
    return 0 if currency.upper() in NO_DECIMALS else 2


def value(amount_cents, currency):
    """Our minor units -> PayPal's decimal string (the adapters' own conversion table)."""
    return to_paypal(int(amount_cents), currency.upper(), "sent")


def cents(text, currency):
    return from_paypal(str(text), currency.upper())


def money(amount_cents, currency):
    return {"currency_code": currency.upper(), "value": value(amount_cents, currency)}


def error(status, name, issue=None, description=None, field=None):
    body = {"name": name, "message": MESSAGES.get(name, name),
            "debug_id": ids.stripe("", 13).lower()}
    if issue:
        detail = {"issue": issue, "description": description or issue}
        if field:
            detail.update(field=field, location="body")
        body["details"] = [detail]
        body["links"] = [{"href": f"https://developer.paypal.com/docs/api/v1/#error-{issue}",
                          "rel": "information_link", "method": "GET"}]
    return status, body


def not_found():
    return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                 "Specified resource ID does not exist. Please check the resource ID and "
                 "try again.")


class PayPal:
    def __init__(self, sandbox):
        self.sb = sandbox
        self.payers, self.plans, self.orders, self.captures = {}, {}, {}, {}
        self.refunds, self.subscriptions, self.sales, self.disputes = {}, {}, {}, {}
        self.events = []
        self.tokens = {}  # access token -> when it expires (Unix time, real: as it was issued)
        #: expires_in of the tokens issued from now on (PayPal: 32400 s, nine hours)
        self.token_lifetime = 32400
        #: how PayPal answers the refunds made from now on: "COMPLETED", or "PENDING"
        #: (settled later: settle_refund), "FAILED"
        self.refund_status = "COMPLETED"
        #: chargebacks: the money a lost dispute took back, as the transaction search lists
        #: it (T1106, against the disputed transaction)
        self.reversals = []
        self.decline_next = set()
        self.effects = []  # (verb, subscription id) for every change made to a subscription
        #: revisions wait for the payer's approval (the answer carries an "approve" link)
        self.require_approval = False
        self.awaiting = {}  # subscription id -> (plan id, plan override) to approve
        #: search rows of transactions older than the sandbox's own records (history)
        self.history = []
        self.descriptions = {}  # capture / sale id -> the item description (search rows)
        self._replies = {}
        sub = r"/v1/billing/subscriptions/(?P<ref>[^/]+)"
        self.routes = [
            ("POST", r"/v1/oauth2/token", self.token),
            ("POST", r"/v1/notifications/verify-webhook-signature", self.verify),
            ("POST", r"/v2/payments/captures/(?P<ref>[^/]+)/refund", self.refund),
            ("GET", r"/v2/payments/refunds/(?P<ref>[^/]+)", self.get(self.refunds)),
            ("GET", r"/v2/payments/captures/(?P<ref>[^/]+)", self.get(self.captures)),
            ("GET", r"/v2/checkout/orders/(?P<ref>[^/]+)", self.get(self.orders)),
            ("GET", r"/v1/billing/plans/(?P<ref>[^/]+)", self.get(self.plans)),
            ("GET", r"/v1/payments/sale/(?P<ref>[^/]+)", self.get(self.sales)),
            ("GET", r"/v1/customer/disputes/(?P<ref>[^/]+)", self.get(self.disputes)),
            ("GET", sub, self.get_subscription),
            ("POST", sub + r"/(?P<verb>revise|cancel|suspend|activate)", self.sub_action),
            ("GET", r"/v1/reporting/transactions", self.search),
        ]

    # --- building objects ----------------------------------------------------------------
    def payer(self, *, email, name, country=None, ref=None):
        given, _, surname = (name or "").partition(" ")
        payer = {"payer_id": ref or ids.payer_id(), "email_address": email,
                 "name": {"given_name": given, "surname": surname},
                 "address": {"country_code": country}}
        self.payers[payer["payer_id"]] = payer
        return payer

    def plan(self, *, name, amount, currency, interval, interval_count=1, ref=None):
        plan = {"id": ref or ids.plan_id(), "product_id": "PROD-" + ids.paypal(17),
                "name": name, "status": "ACTIVE", "usage_type": "LICENSED",
                "billing_cycles": [{
                    "frequency": {"interval_unit": interval.upper(),
                                  "interval_count": int(interval_count)},
                    "tenure_type": "REGULAR", "sequence": 1, "total_cycles": 0,
                    "pricing_scheme": {"version": 1,
                                       "fixed_price": money(amount, currency),
                                       "create_time": iso(self.sb.now()),
                                       "update_time": iso(self.sb.now())}}],
                "payment_preferences": {"service_type": "PREPAID",
                                        "auto_bill_outstanding": True,
                                        "setup_fee_failure_action": "CONTINUE",
                                        "payment_failure_threshold": 3},
                "quantity_supported": False, "create_time": iso(self.sb.now()),
                "update_time": iso(self.sb.now()),
                "links": []}
        plan["links"].append(self._link(f"/v1/billing/plans/{plan['id']}", "self"))
        self.plans[plan["id"]] = plan
        return plan

    def _link(self, path, rel, method="GET"):
        base = f"{self.sb.url}/paypal" if self.sb.url else "https://api-m.sandbox.paypal.com"
        return {"href": base + path, "rel": rel, "method": method}

    def _breakdown(self, amount_cents, currency, settlement):
        """seller_receivable_breakdown; settlement = (cents, currency, fee) paid out."""
        if settlement and settlement[1].upper() != currency.upper() and amount_cents:
            gross, paid_in, fee = settlement[0], settlement[1].upper(), settlement[2] or 0
            rate = Decimal(gross) / Decimal(amount_cents)
            fee_here, rate = _fee_at(fee, rate)
            fee_there = int((Decimal(fee_here) * rate).to_integral_value(ROUND_HALF_UP))
            return {"gross_amount": money(amount_cents, currency),
                    "paypal_fee": money(fee_here, currency),
                    "net_amount": money(amount_cents - fee_here, currency),
                    "receivable_amount": money(gross - fee_there, paid_in),
                    "exchange_rate": {"source_currency": currency.upper(),
                                      "target_currency": paid_in,
                                      "value": f"{rate:.10f}".rstrip("0")}}
        fee = settlement[2] if settlement and settlement[2] is not None else \
            _step(round(amount_cents * 0.0349) + 49, currency)
        return {"gross_amount": money(amount_cents, currency),
                "paypal_fee": money(fee, currency),
                "net_amount": money(amount_cents - fee, currency)}

    def capture(self, *, payer, amount, currency, created, description, status="COMPLETED",
                settlement=None, ref=None, custom_id=None, invoice_id=None):
        """An order paid by `payer` and its capture; returns the capture."""
        capture_id, order_id = ref or ids.paypal(), ids.paypal()
        capture = {"id": capture_id, "status": status, "amount": money(amount, currency),
                   "final_capture": True, "disbursement_mode": "INSTANT",
                   "seller_protection": {"status": "ELIGIBLE", "dispute_categories": [
                       "ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"]},
                   "create_time": iso(created), "update_time": iso(created),
                   "supplementary_data": {"related_ids": {"order_id": order_id}},
                   "links": [self._link(f"/v2/payments/captures/{capture_id}", "self"),
                             self._link(f"/v2/payments/captures/{capture_id}/refund",
                                        "refund", "POST"),
                             self._link(f"/v2/checkout/orders/{order_id}", "up")]}
        if status == "COMPLETED":
            capture["seller_receivable_breakdown"] = self._breakdown(amount, currency,
                                                                     settlement)
        if custom_id:
            capture["custom_id"] = custom_id
        if invoice_id:
            capture["invoice_id"] = invoice_id
        self.captures[capture_id] = capture
        self.descriptions[capture_id] = description
        self.orders[order_id] = {
            "id": order_id, "intent": "CAPTURE", "status": "COMPLETED",
            "payer": self.payers[payer], "create_time": iso(created),
            "update_time": iso(created),
            "purchase_units": [{"reference_id": "default", "description": description,
                                "amount": money(amount, currency),
                                **({"custom_id": custom_id} if custom_id else {}),
                                **({"invoice_id": invoice_id} if invoice_id else {}),
                                "payments": {"captures": [capture]}}],
            "links": [self._link(f"/v2/checkout/orders/{order_id}", "self")]}
        return capture

    def sale(self, *, subscription, amount, currency, created, description, state="completed",
             settlement=None, ref=None):
        """A subscription's recurring payment (a v1 sale)."""
        breakdown = self._breakdown(amount, currency, settlement)
        sale = {"id": ref or ids.paypal(), "state": state,
                "amount": {"total": value(amount, currency), "currency": currency.upper(),
                           "details": {"subtotal": value(amount, currency)}},
                "payment_mode": "INSTANT_TRANSFER", "protection_eligibility": "ELIGIBLE",
                "transaction_fee": {"value": breakdown["paypal_fee"]["value"],
                                    "currency": currency.upper()},
                "billing_agreement_id": subscription, "create_time": iso(created),
                "update_time": iso(created), "links": []}
        if "receivable_amount" in breakdown:
            sale["receivable_amount"] = {"value": breakdown["receivable_amount"]["value"],
                                         "currency": breakdown["receivable_amount"]
                                         ["currency_code"]}
            sale["exchange_rate"] = breakdown["exchange_rate"]["value"]
        sub = self.subscriptions.get(subscription)
        if sub and sub.get("custom_id"):
            sale["custom"] = sub["custom_id"]
        sale["links"] = [self._link(f"/v1/payments/sale/{sale['id']}", "self"),
                         self._link(f"/v1/payments/sale/{sale['id']}/refund", "refund",
                                    "POST")]
        self.sales[sale["id"]] = sale
        self.descriptions[sale["id"]] = description
        return sale

    def add_refund(self, capture_id, *, amount, currency, created, status="COMPLETED",
                   ref=None, note=None, custom_id=None, invoice_id=None):
        refund = {"id": ref or ids.paypal(), "status": status,
                  "amount": money(amount, currency),
                  "seller_payable_breakdown": {
                      "gross_amount": money(amount, currency),
                      "paypal_fee": money(0, currency), "net_amount": money(amount, currency),
                      "total_refunded_amount": money(self.refunded(capture_id) + (
                          amount if status not in ("FAILED", "CANCELLED") else 0),
                          currency)},
                  "create_time": iso(created), "update_time": iso(created),
                  "links": []}
        if status in ("PENDING", "FAILED"):
            refund["status_details"] = {"reason": "ECHECK"}
        for key, given in (("note_to_payer", note), ("custom_id", custom_id),
                           ("invoice_id", invoice_id)):
            if given:
                refund[key] = given
        refund["links"] = [self._link(f"/v2/payments/refunds/{refund['id']}", "self"),
                           self._link(f"/v2/payments/captures/{capture_id}", "up")]
        self.refunds[refund["id"]] = refund
        self._capture_status(capture_id)
        return refund

    def refunded(self, capture_id):
        return sum(cents(r["amount"]["value"], r["amount"]["currency_code"])
                   for r in self.refunds.values()
                   if r["status"] not in ("FAILED", "CANCELLED") and _up(r) == capture_id)

    def subscription(self, *, plan_id, payer, status, start, next_billing, last_payment=None,
                     cycles_completed=1, ref=None, custom_id=None, status_update=None,
                     price=None, trial=False):
        """price = (cents, currency) charged now when it differs from the plan's; trial: a
        completed trial cycle came first (the regular cycle is sequence 2)."""
        plan = self.plans[plan_id]
        sub_id = ref or ids.subscription_id()
        sub = {"id": sub_id, "plan_id": plan_id, "status": status, "quantity": "1",
               "status_update_time": iso(status_update or start), "start_time": iso(start),
               "create_time": iso(start), "update_time": iso(status_update or start),
               "plan_overridden": False, "shipping_amount": money(0, plan["billing_cycles"][0]
                                                                   ["pricing_scheme"]
                                                                   ["fixed_price"]
                                                                   ["currency_code"]),
               "subscriber": {k: v for k, v in self.payers[payer].items()
                              if k in ("payer_id", "email_address", "name")},
               "billing_info": {
                   "outstanding_balance": money(0, plan["billing_cycles"][0]["pricing_scheme"]
                                                ["fixed_price"]["currency_code"]),
                   "cycle_executions": [{"tenure_type": "TRIAL", "sequence": 1,
                                         "cycles_completed": 1, "cycles_remaining": 0,
                                         "total_cycles": 1}] * bool(trial) + [{
                                         "tenure_type": "REGULAR", "sequence": 1 + bool(trial),
                                         "cycles_completed": cycles_completed,
                                         "cycles_remaining": 0,
                                         "current_pricing_scheme_version": 1,
                                         "total_cycles": 0}],
                   "failed_payments_count": 0},
               "links": [self._link(f"/v1/billing/subscriptions/{sub_id}", "self")]}
        if next_billing is not None and status in ("ACTIVE", "SUSPENDED"):
            sub["billing_info"]["next_billing_time"] = iso(next_billing)
        if last_payment:
            sub["billing_info"]["last_payment"] = {"amount": money(*last_payment[1:]),
                                                   "time": iso(last_payment[0])}
        if custom_id:
            sub["custom_id"] = custom_id
        if price is not None:
            sub["plan_overridden"] = True
            sub["plan"] = {"billing_cycles": [{"sequence": 1, "pricing_scheme": {
                "fixed_price": money(*price)}}]}
        self.subscriptions[sub_id] = sub
        return sub

    def price_of(self, sub):
        """(cents, currency) a subscription is charged: its override, else its plan's."""
        override = ((sub.get("plan") or {}).get("billing_cycles") or [{}])[0]
        fixed = (override.get("pricing_scheme") or {}).get("fixed_price") or \
            self.plans[sub["plan_id"]]["billing_cycles"][0]["pricing_scheme"]["fixed_price"]
        return cents(fixed["value"], fixed["currency_code"]), fixed["currency_code"]

    # --- routes ---------------------------------------------------------------------------
    def authorized(self, request):
        import time
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return self.tokens.get(token, 0) > time.time()

    def revoke_tokens(self):
        """PayPal forgets every access token it issued (revoked, or expired early): the
        next call with one answers 401 invalid_token."""
        self.tokens.clear()

    def forget_request_ids(self):
        """PayPal no longer keeps the PayPal-Request-Ids it has seen: one sent again is a
        new request."""
        self._replies.clear()

    def settle_refund(self, ref, status="COMPLETED"):
        """A refund PayPal accepted as PENDING finishes: COMPLETED (announced by
        PAYMENT.CAPTURE.REFUNDED), FAILED or CANCELLED."""
        refund = self.refunds.get(ref)
        if refund is None:
            raise LookupError(f"PayPal has no refund {ref}")
        if status not in ("COMPLETED", "FAILED", "CANCELLED"):
            raise ValueError(f"a refund settles as COMPLETED, FAILED or CANCELLED, not {status}")
        if refund["status"] != "PENDING":
            raise ValueError(f"refund {ref} is {refund['status']} already: only a PENDING "
                             "refund settles")
        refund["status"], refund["update_time"] = status, iso(self.sb.now())
        if status == "COMPLETED":
            refund.pop("status_details", None)
        else:
            refund["status_details"] = {"reason": "ECHECK"}
        capture_id = _up(refund)
        currency = refund["amount"]["currency_code"]
        refund["seller_payable_breakdown"]["total_refunded_amount"] = money(
            self.refunded(capture_id), currency)
        self._capture_status(capture_id)
        if status == "COMPLETED":
            self.sb.paypal_event("PAYMENT.CAPTURE.REFUNDED", refund, "refund")
        return refund

    def _capture_status(self, capture_id):
        capture = self.captures.get(capture_id)
        if capture is None:
            return
        currency = capture["amount"]["currency_code"]
        done = self.refunded(capture_id)
        left = cents(capture["amount"]["value"], currency) - done
        capture["status"] = "REFUNDED" if left <= 0 else \
            "PARTIALLY_REFUNDED" if done else "COMPLETED"

    def get(self, store):
        def handler(request, params, ref):
            obj = store.get(ref)
            return (200, obj) if obj is not None else not_found()
        return handler

    def get_subscription(self, request, params, ref):
        """GET a subscription; ?fields=plan adds the plan in force (its override applied)."""
        sub = self.subscriptions.get(ref)
        if sub is None:
            return not_found()
        answer = {k: v for k, v in sub.items() if k != "plan"}
        plan = self.plans.get(sub.get("plan_id"))
        if plan and "plan" in (params.get("fields") or "").split(","):
            amount, currency = self.price_of(sub)
            cycles = [dict(cycle, pricing_scheme=dict(cycle["pricing_scheme"],
                                                      fixed_price=money(amount, currency)))
                      if cycle["tenure_type"] == "REGULAR" else cycle
                      for cycle in plan["billing_cycles"]]
            answer["plan"] = {k: v for k, v in plan.items()
                              if k not in ("id", "billing_cycles", "links", "status",
                                           "create_time", "update_time", "name",
                                           "product_id", "usage_type")}
            answer["plan"]["billing_cycles"] = cycles
        return 200, answer

    def approve(self, ref):
        """The payer follows the approval link of a revision: it takes effect."""
        plan_id, override = self.awaiting.pop(ref)
        sub = self.subscriptions[ref]
        sub["plan_id"], sub["plan_overridden"] = plan_id, bool(override)
        if override:
            sub["plan"] = override
        else:
            sub.pop("plan", None)
        sub["update_time"] = iso(self.sb.now())
        self.sb.paypal_event("BILLING.SUBSCRIPTION.UPDATED", sub, "subscription")

    def token(self, request, params):
        auth = request.authorization
        if not auth or (auth.username, auth.password) != tuple(self.sb.paypal_client):
            return 401, {"error": "invalid_client",
                         "error_description": "Client Authentication failed"}
        if params.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "Grant Type is not supported"}
        import time
        token = ids.token()
        self.tokens[token] = time.time() + self.token_lifetime
        return 200, {"scope": "https://uri.paypal.com/services/payments/refund "
                              "https://uri.paypal.com/services/subscriptions",
                     "access_token": token, "token_type": "Bearer",
                     "app_id": "APP-80W284485P519543T", "expires_in": self.token_lifetime,
                     "nonce": f"{iso(self.sb.now())}{ids.stripe('', 20)}"}

    def verify(self, request, params):
        required = ("auth_algo", "cert_url", "transmission_id", "transmission_sig",
                    "transmission_time", "webhook_id", "webhook_event")
        if any(not params.get(k) for k in required):
            return error(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER",
                         "A required field is missing.")
        body = json.dumps(params["webhook_event"], separators=(",", ":")).encode()
        expected = paypal_signature(params["transmission_id"], params["transmission_time"],
                                    params["webhook_id"], body)
        ok = hmac.compare_digest(expected, str(params["transmission_sig"])) and \
            params["webhook_id"] == self.sb.paypal_webhook_id
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}

    def _idempotent(self, request, act):
        key = (request.path, request.headers.get("PayPal-Request-Id"))
        if key[1] and key in self._replies:
            return self._replies[key]
        answer = act()
        if key[1] and answer[0] < 500:
            self._replies[key] = answer
        return answer

    def refund(self, request, params, ref):
        answer = self._idempotent(request, lambda: self._refund(ref, params))
        status, body = answer
        if status == 201 and request.headers.get("Prefer") != "return=representation":
            body = {k: body[k] for k in ("id", "status", "links")}
        return status, body

    def _refund(self, ref, params):
        capture = self.captures.get(ref)
        if capture is None or not isinstance(params, dict):
            return not_found()
        currency = capture["amount"]["currency_code"]
        left = cents(capture["amount"]["value"], currency) - self.refunded(ref)
        if left <= 0:
            return error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED",
                         "The capture has already been fully refunded")
        amount = params.get("amount") or money(left, currency)
        if amount.get("currency_code") != currency:
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_CAPTURE_CURRENCY_MISMATCH",
                         "Refund must be in the same currency as the capture.")
        try:
            text = Decimal(str(amount["value"]))
        except Exception:  # noqa: BLE001 - any unreadable amount is PayPal's 422
            text = Decimal("NaN")
        if not text.is_finite() or -text.as_tuple().exponent > decimals(currency) or text <= 0:
            return error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION",
                         "If the currency supports decimals, only two decimal place "
                         "precision is supported.")
        asked = cents(amount["value"], currency)
        if asked > left:
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED",
                         "The refund amount must be less than or equal to the capture "
                         "amount that has not yet been refunded.")
        refund = self.add_refund(ref, amount=asked, currency=currency, created=self.sb.now(),
                                 note=params.get("note_to_payer"),
                                 custom_id=params.get("custom_id"),
                                 invoice_id=params.get("invoice_id"),
                                 status=self.refund_status)
        if refund["status"] == "COMPLETED":  # a PENDING one is announced when it completes
            self.sb.paypal_event("PAYMENT.CAPTURE.REFUNDED", refund, "refund")
        return 201, refund

    def sub_action(self, request, params, ref, verb):
        return self._idempotent(request, lambda: self._act(ref, verb, params))

    def _act(self, ref, verb, params):
        sub = self.subscriptions.get(ref)
        if sub is None:
            return not_found()
        if not isinstance(params, dict) or (verb != "revise" and not params.get("reason")):
            return error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER",
                         "A required field / parameter is missing.", "/reason")
        if sub["status"] not in ALLOWED[verb]:
            return error(422, "UNPROCESSABLE_ENTITY", "SUBSCRIPTION_STATUS_INVALID",
                         f"Invalid subscription status for {verb} action; subscription "
                         f"status should be {' or '.join(ALLOWED[verb]).lower()}.")
        if verb == "revise":
            return self._revise(sub, params)
        sub["status"] = NEW_STATUS[verb]
        sub["status_update_time"] = sub["update_time"] = iso(self.sb.now())
        sub["status_change_note"] = params["reason"]
        if verb == "cancel":
            sub["billing_info"].pop("next_billing_time", None)
        self.effects.append((verb, sub["id"]))
        self.sb.paypal_event(EVENTS[verb], sub, "subscription")
        return 204, None

    def _revise(self, sub, params):
        plan_id = params.get("plan_id") or sub["plan_id"]
        plan = self.plans.get(plan_id)
        if plan is None:
            return error(422, "UNPROCESSABLE_ENTITY", "INVALID_PARAMETER_VALUE",
                         "The value of a field is invalid.", "/plan_id")
        override = (params.get("plan") or {}).get("billing_cycles")
        list_price = plan["billing_cycles"][0]["pricing_scheme"]["fixed_price"]
        if override:
            fixed = (override[0].get("pricing_scheme") or {}).get("fixed_price") or {}
            regular = [c["sequence"] for c in sub["billing_info"]["cycle_executions"]
                       if c["tenure_type"] == "REGULAR"]
            if override[0].get("sequence") not in regular:
                return error(422, "UNPROCESSABLE_ENTITY", "INVALID_BILLING_CYCLE_SEQUENCE",
                             "The billing cycle sequence is invalid.")
            if fixed.get("currency_code") != list_price["currency_code"]:
                return error(422, "UNPROCESSABLE_ENTITY", "CURRENCY_MISMATCH",
                             "The currency code is different from the plan's currency code.")
        new_plan = {"billing_cycles": [{"sequence": override[0]["sequence"],
                                        "pricing_scheme": {"fixed_price": fixed}}]} \
            if override else None
        links = [self._link(f"/v1/billing/subscriptions/{sub['id']}", "edit", "PATCH"),
                 self._link(f"/v1/billing/subscriptions/{sub['id']}", "self")]
        self.effects.append(("revise", sub["id"]))
        if self.require_approval:  # nothing changes until the payer approves
            self.awaiting[sub["id"]] = (plan_id, new_plan)
            links.insert(0, {"href": "https://www.paypal.com/webapps/billing/"
                                     f"subscriptions/update?ba_token=BA-{ids.paypal(17)}",
                             "rel": "approve", "method": "GET"})
        else:
            if override:
                sub["plan"] = new_plan
            else:
                sub.pop("plan", None)
            sub["plan_id"], sub["plan_overridden"] = plan_id, bool(override)
            sub["update_time"] = iso(self.sb.now())
            self.sb.paypal_event("BILLING.SUBSCRIPTION.UPDATED", sub, "subscription")
        return 200, {"plan_id": plan_id, "plan_overridden": bool(override),
                     **({"plan": new_plan} if override else {}),
                     "effective_time": sub["billing_info"].get("next_billing_time"),
                     "links": links}

    def search(self, request, params):
        start, end = params.get("start_date"), params.get("end_date")
        if not start or not end:
            return error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER",
                         "start_date and end_date are required.")
        start, end = parse_iso(start), parse_iso(end)
        if end - start > 31 * DAY:
            return error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE",
                         "Date range is greater than 31 days")
        told = {row["transaction_info"]["transaction_id"] for row in self.history}
        rows = [row for when, row in self._rows() if start <= when < end
                and row["transaction_info"]["transaction_id"] not in told] + [
            row for row in self.history if start <= parse_iso(
                row["transaction_info"]["transaction_initiation_date"]) < end]
        size = max(1, min(500, int(params.get("page_size", 100))))
        page = max(1, int(params.get("page", 1)))
        pages = max(1, -(-len(rows) // size))
        return 200, {"transaction_details": rows[(page - 1) * size:page * size],
                     "account_number": "SANDBOX0000001", "start_date": iso(start),
                     "end_date": iso(end), "last_refreshed_datetime": iso(self.sb.now()),
                     "page": page, "total_items": len(rows), "total_pages": pages,
                     "links": []}

    def _rows(self):
        """(time, transaction_details row) of every capture, sale and refund, oldest first."""
        rows = []
        orders = {c["supplementary_data"]["related_ids"]["order_id"]: c["id"]
                  for c in self.captures.values()}
        buyers = {capture_id: (self.orders.get(order_id) or {}).get("payer") or {}
                  for order_id, capture_id in orders.items()}
        for capture in self.captures.values():
            amount = capture["amount"]
            fee = (capture.get("seller_receivable_breakdown") or {}).get("paypal_fee")
            rows.append((parse_iso(capture["create_time"]), self._row(
                capture["id"], "T0006", amount, _status(capture["status"]),
                capture["create_time"], fee, buyers[capture["id"]], None,
                self.descriptions.get(capture["id"]), capture.get("custom_id"),
                capture.get("invoice_id"))))
        for sale in self.sales.values():
            amount = {"currency_code": sale["amount"]["currency"],
                      "value": sale["amount"]["total"]}
            fee = {"currency_code": sale["amount"]["currency"],
                   "value": sale["transaction_fee"]["value"]}
            sub = self.subscriptions.get(sale["billing_agreement_id"]) or {}
            buyer = self.payers.get((sub.get("subscriber") or {}).get("payer_id"), {})
            rows.append((parse_iso(sale["create_time"]), self._row(
                sale["id"], "T0002", amount, {"completed": "S", "pending": "P"}.get(
                    sale["state"], "D"), sale["create_time"], fee, buyer,
                (sale["billing_agreement_id"], "SUB"), self.descriptions.get(sale["id"]),
                sale.get("custom"), None)))
        for reversal in self.reversals:
            disputed = reversal["transaction_id"]
            rows.append((parse_iso(reversal["time"]), self._row(
                reversal["id"], "T1106", reversal["amount"], "S", reversal["time"], None,
                buyers.get(disputed, {}), (disputed, "TXN"), None, None, None)))
        for refund in self.refunds.values():
            amount = dict(refund["amount"], value="-" + refund["amount"]["value"])
            capture = self.captures.get(_up(refund))
            rows.append((parse_iso(refund["create_time"]), self._row(
                refund["id"], "T1107", amount, _status(refund["status"]),
                refund["create_time"], None, buyers.get(_up(refund), {}),
                (_up(refund), "TXN"), None, refund.get("custom_id"),
                refund.get("invoice_id") or (capture or {}).get("invoice_id"))))
        rows.sort(key=lambda pair: (pair[0], pair[1]["transaction_info"]["transaction_id"]))
        return rows

    def _row(self, txn_id, code, amount, status, when, fee, buyer, reference, subject,
             custom, invoice_id):
        info = {"paypal_account_id": buyer.get("payer_id"), "transaction_id": txn_id,
                "transaction_event_code": code, "transaction_initiation_date": when,
                "transaction_updated_date": when, "transaction_amount": amount,
                "transaction_status": status, "protection_eligibility": "01"}
        if fee:
            info["fee_amount"] = dict(fee, value="-" + fee["value"].lstrip("-"))
        if reference:
            info["paypal_reference_id"], info["paypal_reference_id_type"] = reference
        if subject:
            info["transaction_subject"] = subject
        if custom:
            info["custom_field"] = custom
        if invoice_id:
            info["invoice_id"] = invoice_id
        name = buyer.get("name") or {}
        return {"transaction_info": info, "payer_info": {
            "account_id": buyer.get("payer_id"), "email_address": buyer.get("email_address"),
            "address_status": "Y", "payer_status": "Y",
            "payer_name": {"given_name": name.get("given_name"), "surname": name.get("surname"),
                           "alternate_full_name": " ".join(filter(None, (
                               name.get("given_name"), name.get("surname"))))},
            "country_code": (buyer.get("address") or {}).get("country_code")}}

    # --- the clock ----------------------------------------------------------------------------
    def due(self, until):
        for sub in self.subscriptions.values():
            nxt = sub["billing_info"].get("next_billing_time")
            if sub["status"] == "ACTIVE" and nxt and parse_iso(nxt) <= until:
                yield parse_iso(nxt), sub["id"]

    def fall_due(self, ref, when):
        sub = self.subscriptions[ref]
        plan = self.plans[sub["plan_id"]]
        frequency = plan["billing_cycles"][0]["frequency"]
        amount, currency = self.price_of(sub)
        info = sub["billing_info"]
        if ref in self.decline_next:
            self.decline_next.discard(ref)
            info["failed_payments_count"] += 1
            info["next_billing_time"] = iso(when + 5 * DAY)  # PayPal retries in 5 days
            info["last_failed_payment"] = {"amount": money(amount, currency),
                                           "time": iso(when),
                                           "reason_code": "PAYMENT_DENIED"}
            self.sb.paypal_event("BILLING.SUBSCRIPTION.PAYMENT.FAILED", sub, "subscription")
            return [f"PayPal {ref}: renewal declined, retried in 5 days"]
        sale = self.sale(subscription=ref, amount=amount, currency=currency, created=when,
                         description=f"{plan['name']} — renewal")
        info["last_payment"] = {"amount": money(amount, currency), "time": iso(when)}
        info["failed_payments_count"] = 0
        info.pop("last_failed_payment", None)
        [c for c in info["cycle_executions"]
         if c["tenure_type"] == "REGULAR"][0]["cycles_completed"] += 1
        info["next_billing_time"] = iso(add_interval(when, frequency["interval_unit"],
                                                     frequency["interval_count"]))
        sub["update_time"] = iso(when)
        self.sb.paypal_event("PAYMENT.SALE.COMPLETED", sale, "sale")
        self.sb.paypal_event("BILLING.SUBSCRIPTION.UPDATED", sub, "subscription")
        return [f"PayPal {ref}: renewed, {value(amount, currency)} {currency} charged"]

    # --- disputes -------------------------------------------------------------------------------
    def open_dispute(self, capture_id, reason="MERCHANDISE_OR_SERVICE_NOT_RECEIVED"):
        capture = self.captures.get(capture_id) or self.sales.get(capture_id)
        if capture is None:
            raise LookupError(f"PayPal has no capture {capture_id}")
        amount = capture["amount"]
        amount = amount if "value" in amount else {"currency_code": amount["currency"],
                                                   "value": amount["total"]}
        if any(d["disputed_transactions"][0]["seller_transaction_id"] == capture_id
               for d in self.disputes.values()):
            raise LookupError(f"PayPal capture {capture_id} is disputed already: a buyer "
                              "opens one dispute per transaction")
        left = cents(amount["value"], amount["currency_code"]) - self.refunded(capture_id)
        if left <= 0:
            raise LookupError(f"PayPal capture {capture_id} is fully refunded: nothing to "
                              "dispute")
        amount = money(left, amount["currency_code"])  # what is left of it
        dispute = {"dispute_id": ids.dispute_id(), "create_time": iso(self.sb.now()),
                   "update_time": iso(self.sb.now()), "reason": reason, "status": "OPEN",
                   "dispute_state": "REQUIRED_ACTION", "dispute_amount": amount,
                   "dispute_life_cycle_stage": "CHARGEBACK" if reason == "UNAUTHORISED"
                   else "INQUIRY", "dispute_channel": "INTERNAL",
                   "disputed_transactions": [{"seller_transaction_id": capture_id,
                                              "seller_protection_eligible": True}],
                   "links": []}
        self.disputes[dispute["dispute_id"]] = dispute
        self.sb.paypal_event("CUSTOMER.DISPUTE.CREATED", dispute, "dispute")
        return dispute

    def decide_dispute(self, dispute_id, won):
        dispute = self.disputes[dispute_id]
        dispute.update(status="RESOLVED", dispute_state="RESOLVED",
                       update_time=iso(self.sb.now()),
                       dispute_outcome={"outcome_code": "RESOLVED_IN_SELLER_FAVOUR" if won
                                        else "RESOLVED_BUYER_FAVOUR",
                                        "amount_refunded": money(0, dispute["dispute_amount"]
                                                                 ["currency_code"])})
        if not won:
            amount = dispute["dispute_amount"]
            self.reversals.append({
                "id": ids.paypal(), "time": iso(self.sb.now()),
                "transaction_id": dispute["disputed_transactions"][0]["seller_transaction_id"],
                "amount": dict(amount, value="-" + amount["value"])})
        self.sb.paypal_event("CUSTOMER.DISPUTE.RESOLVED", dispute, "dispute")
        return dispute


def _step(cents_, currency):
    """An amount rounded to what PayPal can write in `currency` (HUF, TWD: whole units)."""
    from actions.gateways.currencies import ours, rule
    step = 10 ** max(0, ours(currency) - rule("paypal", currency).decimals)
    return int((Decimal(cents_) / step).to_integral_value(ROUND_HALF_UP)) * step


def _fee_at(fee, rate):
    """(the fee in the payment's currency, the rate) such that the fee converts back to
    exactly `fee` at that rate, as PayPal's own figures do."""
    guess = int((Decimal(fee) / rate).to_integral_value(ROUND_HALF_UP))
    for here in (guess, guess - 1, guess + 1, guess - 2, guess + 2):
        if here > 0 and int((Decimal(here) * rate).to_integral_value(ROUND_HALF_UP)) == fee:
            return here, rate
    if guess <= 0:
        return 0, rate
    return guess, (Decimal(fee) / Decimal(guess)).quantize(Decimal("1.0000000000"))


def _up(refund):
    for link in refund.get("links") or []:
        if link.get("rel") == "up":
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return None


def _status(status):
    return {"COMPLETED": "S", "PENDING": "P", "REFUNDED": "S", "PARTIALLY_REFUNDED": "S",
            "DECLINED": "D", "FAILED": "D", "CANCELLED": "V"}.get(status, "P")
