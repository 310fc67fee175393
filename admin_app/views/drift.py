"""The last drift report of `flask sync --dry-run`: a banner on the home page, a page of the
differences."""
from flask_admin import BaseView, expose

from actions.sync.backfill import last_drift
from admin_app.views.base import AccessMixin
from models.transaction import GATEWAYS


class DriftView(AccessMixin, BaseView):
    permission = "view"

    @expose("/")
    def index(self):
        return self.render("sync/drift.html", reports=last_drift(), gateways=GATEWAYS)


def init_app(app):
    @app.context_processor
    def drift_banner():
        """`sync_drift()` in templates: [(gateway label, checked at, differences)] of the last
        dry runs that found differences (queried only where a template asks)."""
        def sync_drift():
            return [(GATEWAYS[g], at, _count(r)) for g, (at, r) in sorted(last_drift().items())
                    if _count(r)]
        return {"sync_drift": sync_drift}


def _count(report):
    """Differences in a dry run's report: objects, stored values that do not add up, and
    customers whose lifetime value differs from the gateway's records."""
    return (report.get("drift_total", 0) + (report.get("ltv_drift") or 0)
            + (report.get("ltv_differences_total") or 0))
