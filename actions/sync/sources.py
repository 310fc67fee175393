"""What the backfill sync pages through, per gateway: pages of (label, apply) pairs, with the
cursor to resume after each page. Parents come before children (customers, subscriptions,
payments, refunds, disputes)."""
from datetime import timedelta
from functools import partial

from sqlalchemy import select

from actions.gateways.paypal_sync import WINDOW_DAYS
from actions.sync import paypal_map as pm
from actions.sync import stripe_map as sm
from actions.sync.apply_accounts import apply_customer, apply_subscription
from actions.sync.apply_money import apply_dispute, apply_payment, apply_refund
from actions.sync.ledger import GatewayLedger
from actions.gateways.times import from_iso
from actions.sync.records import SYNC
from models import SyncState, Transaction, db

#: invoices after charges: a charge does not name its invoice (today's API), so a renewal is
#: linked to its subscription (and its affiliate's commission, its tax) by its paid invoice,
#: as the invoice.paid webhook does
STRIPE_KINDS = ("customers", "subscriptions", "charges", "invoices", "refunds", "disputes")
#: charges and refunds are listed with their balance transactions (what they settled at):
#: one call a page instead of one more a succeeded object (a server that does not expand
#: sends the id, fetched as before)
EXPANDED = ["data.balance_transaction"]


def _outcome(result):
    return result[1]


class StripeSource:
    gateway = "stripe"

    def __init__(self, deps, reader, since=None):
        self.deps, self.reader, self.since = deps, reader, since
        self.store, self.clock = deps.store_currency, deps.clock
        self.seen = set()
        self.ledger = GatewayLedger(self.gateway, self.store) if since is None else None

    def pages(self, resume):
        """(kind, cursor, items) page after page, from where `resume` says a run stopped."""
        kinds = STRIPE_KINDS
        if resume.get("kind"):
            kinds = kinds[kinds.index(resume["kind"]):]
        for i, kind in enumerate(kinds):
            cursor = resume.get("cursor") if kind == resume.get("kind") else None
            params = {"status": "all"} if kind == "subscriptions" else \
                {"expand": EXPANDED} if kind in ("charges", "refunds") else {}
            while True:
                objects, more = self._page(kind, cursor, params)
                if not objects:
                    break
                cursor = objects[-1]["id"]
                yield kind, cursor, [(f"{kind[:-1]} {o['id']}", partial(self._apply, kind, o))
                                     for o in objects if self._wanted(o)]
                if not more:
                    break
            if i + 1 < len(kinds):  # this kind is done: a resumed run starts the next one
                yield kinds[i + 1], None, []

    def _page(self, kind, cursor, params):
        from actions.errors import GatewayDeclined
        try:
            return self.reader.page(kind, cursor, **params)
        except GatewayDeclined as e:
            if kind == "disputes" and "404" in str(e.code or "") + e.message:
                return [], False  # a Stripe-compatible server without disputes
            raise

    def _wanted(self, obj):
        return self.since is None or sm.ts(obj.get("created")) >= self.since

    def _apply(self, kind, obj):
        now = self.clock()
        if kind == "customers":
            return _outcome(apply_customer(self.deps, SYNC, sm.customer(obj, None)))
        if kind == "subscriptions":
            record = sm.subscription(obj, now, self.store)
            return _outcome(apply_subscription(self.deps, SYNC, record))
        if kind == "charges":
            record = sm.charge(obj, self.reader, self.store)
            self.seen.update(record.refs)
            return _outcome(apply_payment(self.deps, SYNC, self._read(record)))
        if kind == "invoices":  # the charge is the payment (and the ledger's): this links it
            record = sm.invoice(obj, self.store)
            return "unchanged" if record is None else \
                _outcome(apply_payment(self.deps, SYNC, record))
        if kind == "refunds":
            record = sm.refund(obj, self.reader, self.store)
            return _outcome(apply_refund(self.deps, SYNC, self._read(record)))
        return _outcome(apply_dispute(self.deps, SYNC, self._read(sm.dispute(obj, self.store))))

    def _read(self, record):
        if self.ledger is not None:
            self.ledger.add(record)
        return record

    def missing_there(self):
        return _missing_there(self.gateway, self.seen, self.since)


def _missing_there(gateway, seen, since, limit=200, listed_from=None):
    """Payments we have that the gateway did not list (a full run only); `listed_from`: the
    gateway lists nothing older (PayPal's transaction search: 3 years)."""
    if since is not None:
        return []
    found = []
    query = select(Transaction.id, Transaction.gateway_ref).where(
        Transaction.gateway == gateway).execution_options(yield_per=5000)
    if listed_from is not None:
        query = query.where(Transaction.created_at >= listed_from)
    for tx_id, ref in db.session.execute(query):
        if ref not in seen:
            found.append({"object": f"payment {ref}", "ref": ref, "action": "payment.missing",
                          "what": "missing at the gateway", "before": {"id": tx_id},
                          "after": None})
            if len(found) >= limit:
                break
    return found


#: PayPal lists a transaction in its search within three hours of it (its documentation), under
#: the time it was made; a window that ended this long before a search found it empty stays
#: empty (a day: the documented three hours with a margin)
LISTED_WITHIN = timedelta(days=1)
#: the sync_state row (kind) that remembers, per PayPal account, the instant before which its
#: transaction search was found empty
QUIET = "quiet"


class PayPalSource:
    """PayPal has no list of captures or subscriptions: the transaction search (31-day windows,
    pages of 500) names every payment, refund and reversal, and the subscriptions they belong
    to, which are fetched.

    A full run covers the search's three years, but does not search again the windows an
    earlier full run found empty before the account's first transaction (one call per
    window, some 36 for an account a few weeks old): it starts where that run found the
    first transaction (sync_state kind "quiet", per account)."""

    gateway = "paypal"

    def __init__(self, deps, reader, since=None):
        self.deps, self.reader, self.full = deps, reader, since is None
        self.store, self.clock = deps.store_currency, deps.clock
        # whole seconds, as the transaction search takes them
        self.since = (since or (self.clock() - timedelta(days=3 * 365))).replace(microsecond=0)
        self.seen, self.subscriptions = set(), set()
        self.ledger = GatewayLedger(self.gateway, self.store, covers_from=self.since) \
            if self.full else None
        self.account = getattr(reader, "account", None)
        # where the search starts: the covered range (self.since) less what is known empty
        self.search_from = self.since
        if self.full and self.account:
            quiet = quiet_before(self.account)
            if quiet is not None and quiet > self.since:
                self.search_from = quiet

    def pages(self, resume):
        from datetime import datetime
        resumed = bool(resume.get("cursor"))
        start = datetime.fromisoformat(resume["cursor"].split("|")[0]) \
            if resumed else self.search_from
        page = int(resume["cursor"].split("|")[1]) if resumed else 1
        # rounded up: a transaction in the current second belongs to the last window (the
        # search takes whole seconds, and its end is exclusive)
        end_all = self.clock().replace(microsecond=0) + timedelta(seconds=1)
        first = None  # the earliest transaction the search listed
        while start < end_all:
            end = min(start + timedelta(days=WINDOW_DAYS), end_all)
            rows, pages = self.reader.transactions(start, end, page)
            for r in rows:
                made = from_iso(r["transaction_info"].get("transaction_initiation_date"))
                if made is not None and (first is None or made < first):
                    first = made
            items = [(f"transaction {r['transaction_info']['transaction_id']}",
                      partial(self._apply, r)) for r in rows]
            more = page < pages
            cursor = f"{(start if more else end).isoformat()}|{page + 1 if more else 1}"
            yield "transactions", cursor, items
            start, page = (start, page + 1) if more else (end, 1)
        if self.full and self.account and not resumed:
            # searched from search_from to now: empty before `first`, and before a day ago
            quiet = min(first or end_all, end_all - LISTED_WITHIN).replace(microsecond=0)
            if quiet > self.search_from:
                remember_quiet(self.account, quiet)

    def _apply(self, row):
        info = row["transaction_info"]
        code = info.get("transaction_event_code", "")
        amount = info["transaction_amount"]
        ref = info.get("paypal_reference_id")
        if code.startswith("T11") and code != "T1106":  # refunds
            record = pm.refund({"id": info["transaction_id"], "capture_id": ref,
                                "amount": _positive(amount), "status": _status(info),
                                "create_time": info.get("transaction_initiation_date"),
                                "custom_id": info.get("custom_field")})
            return _outcome(apply_refund(self.deps, SYNC, self._read(record)))
        if code == "T1106":  # a reversal (chargeback)
            return _outcome(apply_dispute(self.deps, SYNC, self._read(pm.reversal({
                "id": ref or info["transaction_id"], "amount": _positive(amount),
                "create_time": info.get("transaction_initiation_date")}))))
        if not code.startswith("T00") or amount["value"].startswith("-"):
            return "unchanged"  # fees, transfers, conversions: not a sale
        return self._payment(row, info, ref)

    def _payment(self, row, info, ref):
        payer = row.get("payer_info") or {}
        name = payer.get("payer_name") or {}
        customer = pm.payer({"payer_id": payer.get("account_id"),
                             "email_address": payer.get("email_address"),
                             "name": {"given_name": name.get("given_name"),
                                      "surname": name.get("surname")},
                             "address": {"country_code": payer.get("country_code")}})
        sub_ref = ref if info.get("paypal_reference_id_type") == "SUB" else None
        if sub_ref and sub_ref not in self.subscriptions:
            from actions.sync.paypal_handlers import subscription_price
            from actions.sync.events import Context
            current = self.reader.subscription(sub_ref)
            ctx = Context(self.deps, self.reader, SYNC)
            record = pm.subscription(current, self.clock(), subscription_price(current, ctx))
            apply_subscription(self.deps, SYNC, record)
            self.subscriptions.add(sub_ref)
        capture = {"id": info["transaction_id"], "status": "COMPLETED" if _status(info) ==
                   "COMPLETED" else "PENDING", "amount": info["transaction_amount"],
                   "create_time": info.get("transaction_initiation_date"),
                   "custom_id": info.get("transaction_subject") or info.get("custom_field"),
                   "seller_receivable_breakdown": None}
        foreign = info["transaction_amount"]["currency_code"] != self.store
        if foreign and sub_ref:  # the converted figures: a subscription's payment is a sale
            sale = self.reader.sale(info["transaction_id"])
            self.seen.add(info["transaction_id"])
            record = pm.sale(sale, customer, self.store)
            return _outcome(apply_payment(self.deps, SYNC, self._read(record)))
        if foreign:
            capture = self.reader.capture(info["transaction_id"])
        elif info.get("fee_amount"):
            fee = dict(info["fee_amount"], value=info["fee_amount"]["value"].lstrip("-"))
            capture["seller_receivable_breakdown"] = {"gross_amount": info["transaction_amount"],
                                                      "paypal_fee": fee}
        record = pm.capture(capture, customer, self.store)
        if sub_ref:
            record = record.__class__(**{**record.__dict__, "subscription_ref": sub_ref,
                                         "description": "Subscription payment"})
        self.seen.add(info["transaction_id"])
        return _outcome(apply_payment(self.deps, SYNC, self._read(record)))

    def _read(self, record):
        if self.ledger is not None:
            self.ledger.add(record)
        return record

    def missing_there(self):
        return _missing_there(self.gateway, self.seen, None if self.full else self.since,
                              listed_from=self.since)


def quiet_before(account):
    """The instant before which PayPal's search for `account` was found empty, or None."""
    row = db.session.scalar(select(SyncState).where(SyncState.gateway == "paypal",
                                                    SyncState.kind == QUIET))
    result = (row.result or {}) if row is not None else {}
    if result.get("account") != account or not result.get("before"):
        return None
    return from_iso(result["before"])


def remember_quiet(account, before):
    """Remember (committed: a dry run's changes are rolled back, not this) that the search
    for `account` lists nothing before `before`."""
    from sqlalchemy.exc import IntegrityError
    row = db.session.scalar(select(SyncState).where(SyncState.gateway == "paypal",
                                                    SyncState.kind == QUIET))
    if row is None:
        row = SyncState(gateway="paypal", kind=QUIET)
        db.session.add(row)
    row.result = {"account": account, "before": before.isoformat()}
    try:
        db.session.commit()
    except IntegrityError:  # another run wrote it first: the next run searches a bit more
        db.session.rollback()


def _positive(amount):
    return dict(amount, value=amount["value"].lstrip("-"))


def _status(info):
    return {"S": "COMPLETED", "P": "PENDING", "D": "FAILED", "V": "COMPLETED"}.get(
        info.get("transaction_status"), "PENDING")
