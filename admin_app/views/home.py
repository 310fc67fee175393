"""Home: revenue at a glance (issue 19; docs/METRICS.md), and /admin/metrics/mrr.json with the
same figures. Every role that can view sees it; every figure links to the list behind it."""
from datetime import date, timedelta

from flask import current_app, jsonify, request, url_for
from flask_admin import AdminIndexView, expose

from actions.metrics.figures import home, parse_months
from admin_app import charts
from admin_app.templating import money
from admin_app.views.base import AccessMixin
from models._types import utcnow


def figures(months=12):
    config = current_app.config
    return home(utcnow(), config["STORE_TIMEZONE"], config["STORE_CURRENCY"], months,
                config["METRICS_LIVE_SECONDS"])


class HomeView(AccessMixin, AdminIndexView):
    permission = "view"

    @expose("/")
    def index(self):
        try:
            months = parse_months(request.args.get("months"))
        except ValueError as exc:
            return self.render("admin/home.html", error=str(exc), data=None), 400
        data = figures(months)
        links = Links(self.admin, data)
        return self.render(
            "admin/home.html", data=data, links=links, error=None, money=money,
            bridge_chart=charts.bars(data["months"], _axis_money),
            mrr_chart=charts.lines(data["months"], [("end_mrr_cents", "MRR", "#1565c0")],
                                   _axis_money, "MRR at the end of each month"),
            revenue_chart=charts.lines(
                data["months"], [("net_revenue_cents", "Net revenue", "#6a1b9a")],
                _axis_money, "Net revenue per month"))

    @expose("/metrics/mrr.json")
    def mrr_json(self):
        """The figures Home shows, as JSON (?months=1..60, default 12)."""
        try:
            months = parse_months(request.args.get("months"))
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(figures(months))


def _axis_money(cents):
    return money(cents)


class Links:
    """URLs of the lists behind Home's figures, through the lists' own filters."""

    def __init__(self, admin, data):
        self.views = {view.endpoint: view for view in admin._views}
        self.today = date.fromisoformat(data["today"])

    def _list(self, endpoint, **named):
        view = self.views[endpoint]
        args, position = {}, 0
        for index, flt in enumerate(view._filters or ()):
            if flt.name in named:
                args[f"flt{position}_{view.get_filter_arg(index, flt)}"] = named[flt.name]
                position += 1
        return url_for(f"{endpoint}.index_view", **args)

    @staticmethod
    def _days(first, last):
        return f"{first.isoformat()} to {last.isoformat()}"

    def state(self, key):
        return self._list("subscription", Status=key)

    def started(self, month):
        return self._list("subscription", **{"Start date": self._days(
            date.fromisoformat(month["first_day"]), date.fromisoformat(month["last_day"]))})

    def ended(self, month):
        return self._list("subscription", **{"Access ended": self._days(
            date.fromisoformat(month["first_day"]), date.fromisoformat(month["last_day"]))})

    def payments(self, month):
        return self._list("transaction", Date=self._days(
            date.fromisoformat(month["first_day"]), date.fromisoformat(month["last_day"])),
            Status="succeeded")

    def renewals(self):
        return self._list("subscription", Status="active", **{"Next payment": self._days(
            self.today, self.today + timedelta(days=7))})

    def access_ending(self):
        return self._list("subscription", **{"Access ends": "30"})

    def drift(self):
        return url_for("drift.index")
