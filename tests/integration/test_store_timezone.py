"""STORE_TIMEZONE (issue 17 finding 17): lists and filters use the store's calendar days."""
from datetime import datetime, timezone

import pytest

from admin_app import create_app
from models import db
from tests import factories
from tests.conftest import login

LATE_NIGHT_UTC = datetime(2026, 12, 20, 2, 0, tzinfo=timezone.utc)  # 19 Dec in Los Angeles


@pytest.fixture
def la_store(app):
    app.config["STORE_TIMEZONE"] = "America/Los_Angeles"
    sub = factories.subscription(factories.customer(name="Night Owl"),
                                 factories.plan("Silver", 3000))
    sub.start_date = LATE_NIGHT_UTC
    sub.next_payment_date = sub.current_period_end = datetime(2027, 1, 20, 2,
                                                              tzinfo=timezone.utc)
    db.session.commit()
    return sub


def test_list_shows_store_local_days(app, client, la_store):
    login(client, "viewer")
    html = client.get("/admin/subscription/").get_data(as_text=True)
    assert "19 Dec 2026" in html and "20 Dec 2026" not in html
    assert "19 Jan 2027" in html


@pytest.mark.parametrize(("day", "found"), [("2026-12-19", True), ("2026-12-20", False)])
def test_day_filter_uses_store_days(app, client, la_store, day, found):
    login(client, "viewer")
    html = client.get(f"/admin/subscription/?flt0_2={day}+to+{day}").get_data(as_text=True)
    assert "Start date" in html
    assert ("Night Owl" in html) is found


def test_unknown_store_timezone_is_refused_at_start(tmp_path):
    with pytest.raises(SystemExit, match="Mars/Olympus"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "STORE_TIMEZONE": "Mars/Olympus",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
