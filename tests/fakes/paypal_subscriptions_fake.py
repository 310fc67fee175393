"""The subscription part of the PayPal HTTP fake (Subscriptions API v1): get, revise (with or
without an approval link), cancel, suspend, activate; idempotent on PayPal-Request-Id."""
import copy
import re
import secrets
import threading
from decimal import Decimal

from tests.fakes.faults import APPLIED_500, Faults

STATUS_INVALID = {
    "cancel": "Invalid subscription status for cancel action; subscription status should be "
              "active or suspended.",
    "suspend": "Invalid subscription status for suspend action; subscription status should "
               "be active.",
    "activate": "Invalid subscription status for activate action; subscription status should "
                "be suspended.",
    "revise": "Invalid subscription status for revise action; subscription status should be "
              "active or suspended.",
}
ALLOWED = {"cancel": ("ACTIVE", "SUSPENDED"), "suspend": ("ACTIVE",),
           "activate": ("SUSPENDED",), "revise": ("ACTIVE", "SUSPENDED")}
NEW_STATUS = {"cancel": "CANCELLED", "suspend": "SUSPENDED", "activate": "ACTIVE"}


class PayPalSubscriptionsFake:
    """Subscriptions on plans; `effects` lists every change actually made."""

    def __init__(self, server, fake):
        self._fake = fake  # PayPalFake: tokens, call records, error JSON
        self.subscriptions, self.plans = {}, {}
        self.prices = {}  # subscription id -> (value, currency) it is charged now
        self.effects = []  # (what, subscription id)
        self.require_approval = False  # revise answers with an "approve" link
        self.awaiting = {}  # subscription id -> (plan id, price, overridden) the payer must approve
        self.faults, self.read_faults = Faults(), Faults()
        self._replies = {}
        self._lock = threading.Lock()
        base = r"^/v1/billing/subscriptions/[^/]+"
        server.expect_request(re.compile(base + "$"), method="GET").respond_with_handler(
            fake.handler(self._get))
        server.expect_request(re.compile(base + "/(revise|cancel|suspend|activate)$"),
                              method="POST").respond_with_handler(fake.handler(self._post))
        server.expect_request(re.compile(r"^/v1/billing/plans/[^/]+$"), method="GET"
                              ).respond_with_handler(fake.handler(self._get_plan))

    def add_plan(self, value, currency="USD"):
        plan_id = "P-" + secrets.token_hex(12).upper()[:24]
        self.plans[plan_id] = (value, currency)
        return plan_id

    def add_subscription(self, plan_id, next_billing_time, status="ACTIVE", trial=False):
        """A subscription on plan_id, next billed at next_billing_time (ISO text)."""
        sub_id = "I-" + secrets.token_hex(6).upper()
        value, currency = self.plans[plan_id]
        cycles = [{"tenure_type": "TRIAL", "sequence": 1, "cycles_completed": 1,
                   "cycles_remaining": 0, "total_cycles": 1}] if trial else []
        cycles.append({"tenure_type": "REGULAR", "sequence": len(cycles) + 1,
                       "cycles_completed": 1, "cycles_remaining": 0,
                       "current_pricing_scheme_version": 1, "total_cycles": 0})
        self.subscriptions[sub_id] = {
            "id": sub_id, "plan_id": plan_id, "quantity": "1", "status": status,
            "status_update_time": "2026-11-20T10:00:00Z", "start_time": "2026-11-20T10:00:00Z",
            "plan_overridden": False,
            "subscriber": {"email_address": "member@example.com",
                           "payer_id": "PAYER" + secrets.token_hex(4).upper()},
            "billing_info": {
                "outstanding_balance": {"currency_code": currency, "value": "0.00"},
                "cycle_executions": cycles,
                "last_payment": {"amount": {"currency_code": currency, "value": value},
                                 "time": "2026-11-20T10:00:05Z"},
                "next_billing_time": next_billing_time, "failed_payments_count": 0},
            "create_time": "2026-11-20T10:00:00Z", "update_time": "2026-11-20T10:00:05Z",
            "links": [{"href": f"{self._fake.url}/v1/billing/subscriptions/{sub_id}",
                       "rel": "self", "method": "GET"}]}
        self.prices[sub_id] = (value, currency)
        return sub_id

    def approve(self, sub_id):
        """The payer follows the approval link: the revision takes effect."""
        plan_id, price, overridden = self.awaiting.pop(sub_id)
        sub = self.subscriptions[sub_id]
        sub["plan_id"], sub["plan_overridden"] = plan_id, overridden
        self.prices[sub_id] = price

    def _get(self, request, body):
        # the answer says what PayPal held when asked, however late it arrives (HOLD)
        sub = copy.deepcopy(self.subscriptions.get(request.path.rsplit("/", 1)[-1]))
        price = self.prices.get(sub["id"]) if sub else None
        fault = self.read_faults.next()
        if fault in (404, 409, 422, 429, 500):
            return self._fault_answer(fault)
        self.read_faults.after_acting(fault, request)
        if sub is None:
            return 404, self._fake.error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                                         "Requested resource ID was not found.")
        if "plan" in request.args.get("fields", "").split(","):
            value, currency = price
            regular = [c for c in sub["billing_info"]["cycle_executions"]
                       if c["tenure_type"] == "REGULAR"]
            return 200, {**sub, "plan": {"billing_cycles": [{
                "sequence": regular[0]["sequence"], "tenure_type": "REGULAR",
                "pricing_scheme": {"fixed_price": {"value": value,
                                                   "currency_code": currency}}}]}}
        return 200, sub

    def _get_plan(self, request, body):
        plan_id = request.path.rsplit("/", 1)[-1]
        if plan_id not in self.plans:
            return 404, self._fake.error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                                         "Requested resource ID was not found.")
        value, currency = self.plans[plan_id]
        return 200, {"id": plan_id, "product_id": "PROD-MEMBERSHIP", "name": "Membership",
                     "status": "ACTIVE", "billing_cycles": [{
                         "tenure_type": "REGULAR", "sequence": 1, "total_cycles": 0,
                         "frequency": {"interval_unit": "MONTH", "interval_count": 1},
                         "pricing_scheme": {"version": 1, "fixed_price": {
                             "currency_code": currency, "value": value}}}]}

    def _post(self, request, body):
        fault = self.faults.next()
        if fault in (404, 409, 422, 429, 500):
            return self._fault_answer(fault)
        key = (request.path, request.headers.get("PayPal-Request-Id"))
        with self._lock:
            if key[1] and key in self._replies:
                answer = self._replies[key]
            else:
                answer = self._act(request.path, body)
                if key[1] and answer[0] < 500:
                    self._replies[key] = answer
        self.faults.after_acting(fault, request)
        if fault == APPLIED_500:
            return self._fault_answer(500)
        return answer

    def _act(self, path, body):
        _, sub_id, verb = path.rsplit("/", 2)
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            return 404, self._fake.error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                                         "Requested resource ID was not found.")
        if not isinstance(body, dict) or (verb != "revise" and not body.get("reason")):
            return 400, self._fake.error("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER",
                                         "A required field / parameter is missing.")
        if sub["status"] not in ALLOWED[verb]:
            return 422, self._fake.error("UNPROCESSABLE_ENTITY", "SUBSCRIPTION_STATUS_INVALID",
                                         STATUS_INVALID[verb])
        if verb == "revise":
            return self._revise(sub, body)
        sub["status"], sub["status_update_time"] = NEW_STATUS[verb], "2026-12-10T10:00:00Z"
        if verb == "cancel":
            sub["billing_info"].pop("next_billing_time", None)
        self.effects.append((verb, sub["id"]))
        return 204, None

    def _revise(self, sub, body):
        plan_id = body.get("plan_id")
        if plan_id not in self.plans:
            return 422, self._fake.error("UNPROCESSABLE_ENTITY", "INVALID_PARAMETER_VALUE",
                                         "The value of a field is invalid: plan_id.")
        price = self.plans[plan_id]
        override = (body.get("plan") or {}).get("billing_cycles")
        if override:
            fixed = override[0]["pricing_scheme"]["fixed_price"]
            regular = [c["sequence"] for c in sub["billing_info"]["cycle_executions"]
                       if c["tenure_type"] == "REGULAR"]
            if override[0].get("sequence") not in regular:
                return 422, self._fake.error("UNPROCESSABLE_ENTITY", "INVALID_BILLING_CYCLE",
                                             "The billing cycle sequence is invalid.")
            if fixed["currency_code"] != price[1] or Decimal(fixed["value"]) < 0:
                return 422, self._fake.error("UNPROCESSABLE_ENTITY", "CURRENCY_MISMATCH",
                                             "The currency code is different from the "
                                             "plan's currency code.")
            price = (fixed["value"], fixed["currency_code"])
        links = [{"href": f"{self._fake.url}/v1/billing/subscriptions/{sub['id']}",
                  "rel": "self", "method": "GET"}]
        if self.require_approval:
            token = secrets.token_hex(8).upper()
            links.insert(0, {"href": "https://www.paypal.com/webapps/billing/subscriptions/"
                                     f"update?ba_token=BA-{token}",
                             "rel": "approve", "method": "GET"})
            sub["status_update_time"] = "2026-12-10T10:00:00Z"  # waits for the payer
            self.awaiting[sub["id"]] = (plan_id, price, bool(override))
        else:
            sub["plan_id"], sub["plan_overridden"] = plan_id, bool(override)
            self.prices[sub["id"]] = price
        self.effects.append(("revise", sub["id"]))
        answer_plan = {"plan": {"billing_cycles": override}} if override else {}
        return 200, {**answer_plan, "plan_id": plan_id, "plan_overridden": bool(override),
                     "effective_time": sub["billing_info"].get("next_billing_time"),
                     "links": links}

    def _fault_answer(self, status):
        names = {404: ("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                       "Requested resource ID was not found."),
                 409: ("RESOURCE_CONFLICT", "DUPLICATE_REQUEST_ID",
                       "A request with this PayPal-Request-Id is being processed."),
                 422: ("UNPROCESSABLE_ENTITY", "SUBSCRIPTION_STATUS_INVALID",
                       "Invalid subscription status for this action."),
                 429: ("RATE_LIMIT_REACHED", None, None),
                 500: ("INTERNAL_SERVER_ERROR", None, None)}
        return status, self._fake.error(*names[status])
