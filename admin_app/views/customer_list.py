"""The customers list at scale: search from the search indexes, exact counts where they are
cheap, and what payments in other currencies add to each row's lifetime value."""
from flask import current_app, g, has_request_context
from markupsafe import Markup, escape

from actions.ltv import uncounted_totals
from admin_app.list_filters import AmountFilter
from admin_app.templating import money
from admin_app.views.base import money_formatter
from models import db
from models.queries.counting import ListCount, at_least
from models.queries.customer_search import plan_search

# Sorts a search may follow down their index (models/customer.py) instead of sorting matches.
WALKABLE_SORTS = (None, "lifetime_value_cents")


def uncounted_text(totals):
    """'+ €49.00 not counted' for each other currency's total."""
    return [f"+ {money(cents, currency)} not counted" for currency, cents in totals]


def ltv_formatter(view, context, model, name):
    """The lifetime value, with what other currencies' payments add (not counted in it)."""
    value = escape(money_formatter(view, context, model, name))
    extra = uncounted_text(g.get("uncounted", {}).get(model.id, ()))
    if not extra:
        return value
    hint = ("Payments in other currencies are not added to the lifetime value "
            "(it counts " + current_app.config["STORE_CURRENCY"] + " only).")
    return value + Markup(" ").join(
        Markup('<div class="md-uncounted small text-muted" title="{}">{}</div>').format(hint, t)
        for t in extra)


class CustomerListMixin:
    """Search through plan_search (indexed; a walk down the sort index where it can), the
    count that search can give cheaply, the uncounted totals of the page's rows, and what a
    lifetime value filter says about a value that is no amount."""

    def get_invalid_value_msg(self, value, filter):
        """A lifetime value that is no amount: what is wrong, and how to type one."""
        if isinstance(filter, AmountFilter):
            currency = current_app.config["STORE_CURRENCY"]
            return (f"Lifetime value {filter.operation()}: {filter.problem(value)} Type an "
                    f"amount in {currency}, like 1,250.00. The filter was not applied.")
        return super().get_invalid_value_msg(value, filter)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Name or email contains every term, answered from the search indexes (migration 0002)."""
        offset, page_size, sort = 0, self.page_size, None
        if has_request_context():
            args = self._get_list_extra_args()
            page_size = self.get_safe_page_size(args.page_size)
            offset = (args.page or 0) * page_size
            sort = (self._get_column_by_idx(args.sort) or (None,))[0]
        plan = plan_search(db.session, search, offset, page_size, sort in WALKABLE_SORTS)
        if plan is None:
            return query, count_query, joins, count_joins
        g.customer_search_plan = plan
        if count_query is not None:
            count_query = count_query.filter(plan.clause)
        return query.filter(plan.clause), count_query, joins, count_joins

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """The page's rows, and what payments in other currencies add for them (one query)."""
        if has_request_context():
            g.customer_list_filtered = bool(filters)
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters,
                                       execute=execute, page_size=page_size)
        if execute and has_request_context():
            g.uncounted = uncounted_totals([row.id for row in rows],
                                           current_app.config["STORE_CURRENCY"])
        return count, rows

    def list_count(self, query, page, page_size, rows, whole_table):
        """Exact whenever the search can be counted cheaply (up to the cap), else bounded."""
        plan = g.pop("customer_search_plan", None)
        if plan is None or g.get("customer_list_filtered"):
            return super().list_count(query, page, page_size, rows, whole_table)
        seen = page * page_size + len(rows)
        if len(rows) < page_size and (rows or page == 0):
            return ListCount(seen)
        if plan.exact:
            return ListCount(plan.count)
        if not plan.countable:  # one or two letters: only a scan could count them
            return at_least(seen, page_size, len(rows))
        counted = plan.count_query(db.session)  # SQLite: from the FTS table, not the walk
        return super().list_count(query if counted is None else counted, page, page_size,
                                  rows, whole_table)
