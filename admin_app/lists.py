"""What each list is, without its view: model, search and filters.

A list's view takes its filters and its search from here, and so do the bulk confirmation
(counting "all N matching") and the job worker (listing a job's targets), which never go
through a view: the three agree because there is one definition. A job's scope names its
list by the view's endpoint: {"view": "transaction", "search": ..., "filters": [[index,
name, value], ...]} or {"view": ..., "ids": [...]}.
"""
from dataclasses import dataclass, field
from typing import Callable

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.contrib.sqla.tools import parse_like_term
from sqlalchemy import Unicode, cast, or_

from admin_app.list_filters import (AccessEndsWithinFilter, AmountFilter, CountryFilter,
                                   DayRangeFilter, IdFilter, StateFilter,
                                   SubscriptionStateFilter)
from models import Customer, Subscription, Transaction, db
from models.queries.customer_search import plan_search
from models.transaction import GATEWAYS, PAYMENT_STATUSES


@dataclass(frozen=True)
class ListScope:
    """A list's rows for a search text and the list's filter arguments."""

    model: type
    #: search(query, text) -> query
    search: Callable = None
    #: Flask-Admin filter objects, in the list's order (the view's column_filters)
    filters: tuple = field(default=())

    def query(self, search=None, filters=(), ids=None):
        """The unpaged, unsorted query: search, then each (index, name, value) filter."""
        query = db.session.query(self.model)
        if search and self.search is not None:
            query = self.search(query, search)
        for index, _name, value in filters or ():
            flt = self.filters[index]
            query = flt.apply(query, flt.clean(value))
        if ids is not None:
            query = query.filter(self.model.id.in_(ids))
        return query

    def audited_filters(self, filters):
        """[name, operation, value] of each filter, as an export's audit entry names them."""
        return [[name, self.filters[index].operation(), value]
                for index, name, value in filters or ()]


def customer_of(model):
    """Flask-Admin's search over the row's customer name and email: every space-separated
    term matches one of them (case-insensitive, anywhere; '^abc' from the start, '=abc' exact).
    """
    def search(query, text):
        query = query.outerjoin(model.customer)
        for term in text.split(" "):
            if term:
                like = parse_like_term(term)
                query = query.filter(or_(cast(Customer.name, Unicode).ilike(like),
                                         cast(Customer.email, Unicode).ilike(like)))
        return query
    return search


def customer_name_or_email(query, text):
    """The customers list's search (from the search indexes, models/queries)."""
    plan = plan_search(db.session, text, walkable=False)
    return query if plan is None else query.filter(plan.clause)


# Each filter is answered from an index at 1M customers (tests/integration/
# test_customer_filters.py reads PostgreSQL's EXPLAIN of each): subscription status through
# ix_subscription_customer, country through ix_customer_country (migration 0017), lifetime
# value through ix_customer_ltv, customer since through ix_customer_created.
CUSTOMERS = ListScope(Customer, search=customer_name_or_email, filters=(
    SubscriptionStateFilter(Customer.id, "Subscription status"),
    CountryFilter(Customer.country, "Country"),
    AmountFilter(Customer.lifetime_value_cents, "Lifetime value"),
    AmountFilter(Customer.lifetime_value_cents, "Lifetime value", at_most=True),
    DayRangeFilter(Customer.created_at, "Customer since"),
))
TRANSACTIONS = ListScope(Transaction, search=customer_of(Transaction), filters=(
    FilterEqual(Transaction.gateway, "Payment system", options=list(GATEWAYS.items())),
    FilterEqual(Transaction.status, "Status",
                options=[(s, s.capitalize()) for s in PAYMENT_STATUSES]),
    DayRangeFilter(Transaction.created_at, "Date"),
    IdFilter(Transaction.id, "Payment id"),  # one payment: the audit log links here
))
SUBSCRIPTIONS = ListScope(Subscription, search=customer_of(Subscription), filters=(
    FilterEqual(Subscription.gateway, "Payment system", options=list(GATEWAYS.items())),
    StateFilter(Subscription.status, "Status"),
    DayRangeFilter(Subscription.start_date, "Start date"),
    AccessEndsWithinFilter(Subscription.current_period_end, "Access ends"),
    IdFilter(Subscription.id, "Subscription id"),  # one subscription: the audit log links here
    # Home's links (appended: a job's stored scope names its filters by index)
    DayRangeFilter(Subscription.access_until, "Access ended"),
    DayRangeFilter(Subscription.next_payment_date, "Next payment"),
))

#: the lists a job's scope may name, by their view's endpoint
LISTS = {"customer": CUSTOMERS, "transaction": TRANSACTIONS, "subscription": SUBSCRIPTIONS}


def scope_query(scope):
    """The model query a job's scope stands for: a list's search and filters, or its ids."""
    lst = LISTS[scope["view"]]
    return lst.query(scope.get("search"), [tuple(f) for f in scope.get("filters") or []],
                     ids=scope.get("ids"))


def scope_ids(scope, model):
    """The target ids of a scope, in id order (what a job writes into job_row)."""
    ids_query = scope_query(scope).with_entities(model.id).order_by(None).order_by(model.id)
    return [row[0] for row in db.session.execute(ids_query.statement)]
