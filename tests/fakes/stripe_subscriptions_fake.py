"""The subscription part of the Stripe HTTP fake (API 2026-10-28 shapes): retrieve, update,
cancel, invoices/create_preview; idempotent on Idempotency-Key; faults on request."""
import re
import threading

from tests.fakes.faults import Faults

PRORATIONS = ("none", "create_prorations", "always_invoice")
CANCELED_UPDATE = "A canceled subscription can only update its cancellation_details and metadata."
IDEMPOTENCY_MISMATCH = ("Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than '{}' if you "
                        "meant to execute a different request.")


class StripeSubscriptionsFake:
    """Subscriptions with one item each; `effects` lists every change actually made."""

    def __init__(self, server, fake):
        self._fake = fake  # StripeFake: records calls, checks the key, builds answers
        self.subscriptions, self.prices, self.invoices = {}, {}, []
        self.effects = []  # (what, subscription id) per change made
        self.faults = Faults()  # for the next change (POST, DELETE) or preview
        self.read_faults = Faults()  # for the next GET
        self.tax_rate_bp = 0  # tax on invoices, in basis points (1000: 10 %)
        self.customer_balance = 0  # Stripe's sign: negative is a credit the customer holds
        self.card_declines = False  # an invoice paid at once is declined
        self._replies = {}
        self._lock = threading.Lock()
        sub_path = re.compile(r"^/v1/subscriptions/[^/]+$")
        for method in ("GET", "POST", "DELETE"):
            server.expect_request(sub_path, method=method).respond_with_handler(
                fake.handler(self._subscription))
        server.expect_request("/v1/invoices/create_preview", method="POST"
                              ).respond_with_handler(fake.handler(self._preview))
        server.expect_request("/v1/prices", method="POST").respond_with_handler(
            fake.handler(self._create_price))

    def add_price(self, amount, currency="eur", interval="month", interval_count=1,
                  product=None):
        """A recurring Price (a plan of our catalog); returns it."""
        price = {"id": self._fake.new_id("price_"), "object": "price", "active": True,
                 "currency": currency, "product": product or self._fake.new_id("prod_"),
                 "recurring": {"interval": interval, "interval_count": interval_count,
                               "usage_type": "licensed"},
                 "type": "recurring", "unit_amount": amount, "billing_scheme": "per_unit"}
        self.prices[price["id"]] = price
        return price

    def add_subscription(self, price, period_start, period_end, status="active"):
        """A subscription on `price` whose current period runs period_start..period_end."""
        sub_id = self._fake.new_id("sub_")
        item = {"id": self._fake.new_id("si_"), "object": "subscription_item",
                "current_period_start": period_start, "current_period_end": period_end,
                "price": price, "quantity": 1, "subscription": sub_id}
        self.subscriptions[sub_id] = {
            "id": sub_id, "object": "subscription", "status": status,
            "billing_cycle_anchor": period_start, "cancel_at": None,
            "cancel_at_period_end": False, "canceled_at": None, "ended_at": None,
            "currency": price["currency"], "customer": self._fake.new_id("cus_"),
            "items": {"object": "list", "data": [item], "has_more": False,
                      "url": f"/v1/subscription_items?subscription={sub_id}"},
            "pause_collection": None, "start_date": period_start, "metadata": {}}
        return sub_id

    def _subscription(self, request):
        sub_id = request.path.rsplit("/", 1)[-1]
        if sub_id not in self.subscriptions:
            return 404, _error(f"No such subscription: '{sub_id}'", "resource_missing", "id")
        if request.method == "GET":
            fault = self.read_faults.next()
            if fault in (404, 409, 422, 429, 500):
                return _fault_answer(fault)
            self.read_faults.after_acting(fault, request)
            return 200, self.subscriptions[sub_id]
        return self._idempotent(request, lambda: self._change(request, sub_id))

    def _create_price(self, request):
        """POST /v1/prices (a price change's Price); the subscription faults leave it alone."""
        return self._idempotent(request, lambda: self._new_price(request.form), faults=None)

    def _new_price(self, form):
        if not form.get("product") or not form.get("unit_amount", "").isdigit() \
                or not form.get("currency") or not form.get("recurring[interval]"):
            return 400, _error("Missing or invalid product, unit_amount, currency or "
                               "recurring[interval].", "parameter_missing")
        price = self.add_price(int(form["unit_amount"]), form["currency"],
                               form["recurring[interval]"],
                               int(form.get("recurring[interval_count]", 1)), form["product"])
        price["metadata"] = {key[len("metadata["):-1]: value for key, value in form.items()
                             if key.startswith("metadata[")}
        return 200, price

    def _idempotent(self, request, act, faults=True):
        """Same key and parameters: the stored answer, nothing done again."""
        key = request.headers.get("Idempotency-Key")
        fault = self.faults.next() if faults else None
        if fault in (404, 409, 422, 429, 500):
            return _fault_answer(fault)
        with self._lock:
            signature = (request.method, request.path, request.form.to_dict())
            if key in self._replies:
                stored_signature, answer = self._replies[key]
                if stored_signature != signature:
                    return 400, {"error": {"type": "idempotency_error",
                                           "message": IDEMPOTENCY_MISMATCH.format(key)}}
            else:
                answer = act() if fault != "decline" else _decline()
                if key:
                    self._replies[key] = (signature, answer)
        if faults:
            self.faults.after_acting(fault, request)
        return answer

    def _change(self, request, sub_id):
        sub = self.subscriptions[sub_id]
        if request.method == "DELETE":
            if sub["status"] == "canceled":
                return 404, _error(f"No such subscription: '{sub_id}'", "resource_missing",
                                   "id")
            sub.update(status="canceled", canceled_at=self._fake.now(),
                       ended_at=self._fake.now())
            self.effects.append(("cancel", sub_id))
            return 200, sub
        if sub["status"] == "canceled":
            return 400, _error(CANCELED_UPDATE)
        return self._update(sub, request.form)

    def _update(self, sub, form):
        new_price, problem = self._price_from(form, sub)
        if problem:
            return problem
        proration = form.get("proration_behavior", "create_prorations")
        if proration not in PRORATIONS:
            return 400, _error(f"Invalid proration_behavior: must be one of "
                               f"{', '.join(PRORATIONS)}", param="proration_behavior")
        item = sub["items"]["data"][0]
        if new_price:
            lines = self._proration_lines(sub, new_price, proration,
                                          int(form.get("proration_date", self._fake.now())))
            invoice = dict(self._invoice(lines), subscription=sub["id"], lines=lines)
            behavior = form.get("payment_behavior", "allow_incomplete")
            declined = (proration == "always_invoice" and self.card_declines
                        and invoice["amount_due"] > 0)
            if declined and behavior == "error_if_incomplete":
                return _decline()
            if proration == "always_invoice":
                self.invoices.append(dict(invoice, status="open" if declined else "paid"))
            if declined and behavior == "pending_if_incomplete":
                sub["pending_update"] = {
                    "expires_at": self._fake.now() + 23 * 3600,
                    "subscription_items": [{"id": item["id"], "price": new_price["id"]}]}
                self.effects.append(("pending_update", sub["id"]))
                return 200, sub
            if declined:  # allow_incomplete: the change stands, the invoice stays unpaid
                sub["status"] = "past_due"
            item["price"] = new_price
            self.effects.append(("price", sub["id"]))
        if "cancel_at_period_end" in form:
            flag = form["cancel_at_period_end"] == "true"
            sub["cancel_at_period_end"] = flag
            sub["cancel_at"] = item["current_period_end"] if flag else None
            self.effects.append(("cancel_at_period_end" if flag else "undo_cancel", sub["id"]))
        if "pause_collection" in form:
            sub["pause_collection"] = None
            self.effects.append(("resume", sub["id"]))
        elif "pause_collection[behavior]" in form:
            resumes = form.get("pause_collection[resumes_at]")
            sub["pause_collection"] = {"behavior": form["pause_collection[behavior]"],
                                       "resumes_at": int(resumes) if resumes else None}
            self.effects.append(("pause", sub["id"]))
        return 200, sub

    def _price_from(self, form, sub):
        """(the item's new price or None, an error answer or None) from items[0][...]."""
        item = sub["items"]["data"][0]
        if "items[0][id]" in form and form["items[0][id]"] != item["id"]:
            return None, (400, _error(f"No such subscription item: '{form['items[0][id]']}'",
                                      "resource_missing", "items[0][id]"))
        if "items[0][price]" in form:
            price = self.prices.get(form["items[0][price]"])
            if price is None:
                return None, (400, _error(f"No such price: '{form['items[0][price]']}'",
                                          "resource_missing", "items[0][price]"))
            return price, None
        if "items[0][price_data][unit_amount]" in form:
            data = {key[len("items[0][price_data]"):]: value for key, value in form.items()
                    if key.startswith("items[0][price_data]")}
            if data.get("[product]") != item["price"]["product"]:
                return None, (400, _error("No such product", "resource_missing",
                                          "items[0][price_data][product]"))
            price = self.add_price(int(data["[unit_amount]"]), data["[currency]"],
                                   data["[recurring][interval]"],
                                   int(data.get("[recurring][interval_count]", 1)),
                                   data["[product]"])
            price["active"] = False  # inline prices are not reusable
            return price, None
        return None, None

    def _proration_lines(self, sub, new_price, proration, when):
        """Stripe's two proration lines for the rest of the period (none: no lines)."""
        if proration == "none":
            return []
        item = sub["items"]["data"][0]
        start, end = item["current_period_start"], item["current_period_end"]
        share = max(0, end - when) / (end - start)
        old = item["price"]
        return [self._line(-round(old["unit_amount"] * share), old, True, when, end),
                self._line(round(new_price["unit_amount"] * share), new_price, True, when, end)]

    def _line(self, amount, price, proration, start, end):
        return {"id": self._fake.new_id("il_"), "object": "line_item", "amount": amount,
                "currency": price["currency"], "period": {"start": start, "end": end},
                "parent": {"type": "subscription_item_details",
                           "subscription_item_details": {"proration": proration}},
                "pricing": {"type": "price_details",
                            "price_details": {"price": price["id"],
                                              "product": price["product"]}}}

    def _preview(self, request):
        form = request.form
        sub = self.subscriptions.get(form.get("subscription"))
        if sub is None:
            return 404, _error(f"No such subscription: '{form.get('subscription')}'",
                               "resource_missing", "subscription")
        fault = self.faults.next()
        if fault in (404, 409, 422, 429, 500):
            return _fault_answer(fault)
        items = {key.replace("subscription_details[", "", 1).replace("]", "", 1): value
                 for key, value in form.items() if key.startswith("subscription_details[")}
        new_price, problem = self._price_from(items, sub)
        if problem:
            return problem
        proration = items.get("proration_behavior", "create_prorations")
        price = new_price or sub["items"]["data"][0]["price"]
        item = sub["items"]["data"][0]
        lines = self._proration_lines(sub, price, proration,
                                      int(items.get("proration_date", self._fake.now())))
        if proration != "always_invoice":
            end = item["current_period_end"]
            lines.append(self._line(price["unit_amount"], price, False, end,
                                    end + (end - item["current_period_start"])))
        self.faults.after_acting(fault, request)
        return 200, {"id": None, "object": "invoice", "currency": price["currency"],
                     **self._invoice(lines),
                     "lines": {"object": "list", "data": lines, "has_more": False},
                     "parent": {"type": "subscription_details",
                                "subscription_details": {"subscription": sub["id"]}}}

    def _invoice(self, lines):
        """An invoice's figures as Stripe computes them: tax on a positive subtotal, then
        the customer's balance (a credit) applied to what is due."""
        subtotal = sum(line["amount"] for line in lines)
        tax = round(subtotal * self.tax_rate_bp / 10000) if subtotal > 0 else 0
        total = subtotal + tax
        due = max(total + self.customer_balance, 0) if total > 0 else 0
        return {"subtotal": subtotal, "total": total, "amount_due": due,
                "starting_balance": self.customer_balance,
                "total_taxes": [{"amount": tax, "tax_behavior": "exclusive"}] if tax else []}


def _error(message, code=None, param=None, error_type="invalid_request_error"):
    return {"error": {"type": error_type, "code": code, "message": message, "param": param}}


def _decline():
    return 402, _error("Your card was declined.", "card_declined", error_type="card_error")


def _fault_answer(status):
    messages = {404: ("Unrecognized request URL.", None),
                409: ("There is currently another in-progress request using this "
                      "Stripe API key.", "lock_timeout"),
                422: ("This request cannot be processed.", None),
                429: ("Too many requests hit the API too quickly.", "rate_limit"),
                500: ("An unknown error occurred", None)}
    message, code = messages[status]
    kind = "api_error" if status >= 500 else "invalid_request_error"
    return status, _error(message, code, error_type=kind)
