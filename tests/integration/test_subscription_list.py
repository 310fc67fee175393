"""Sales > Subscriptions: status labels from the one access rule, the "access ends within"
filter, icon buttons with their label on hover."""
import re
from datetime import timedelta

import pytest

from models import db
from models._types import utcnow
from models.access import format_day
from tests import factories
from tests.conftest import login

NAMES = ("Ending Soon", "Later Still", "Renewing Fine", "Over Already")


@pytest.fixture
def subs():
    now = utcnow()
    plan = factories.plan("Silver", 3000)

    def sub(name, **fields):
        return factories.subscription(factories.customer(name=name), plan, **fields)

    made = [sub(NAMES[0], status="canceled", access_until=now + timedelta(days=3),
                canceled_at=now),
            sub(NAMES[1], cancel_at_period_end=True, current_period_end=now + timedelta(days=20)),
            sub(NAMES[2], current_period_end=now + timedelta(days=2)),
            sub(NAMES[3], status="canceled", access_until=now - timedelta(days=1))]
    db.session.commit()
    return made


def status_cells(html):
    cells = re.findall(r'<td class="col-status">\s*(.*?)\s*</td>', html, re.S)
    return [re.sub(r"\s+", " ", cell) for cell in cells]


def test_status_labels_and_icon_buttons(app, client, subs):
    login(client, "finance")
    html = client.get("/admin/subscription/").get_data(as_text=True)
    assert sorted(status_cells(html)) == sorted([
        f"Cancelled — access until {format_day(subs[0].access_until)}",
        f"Cancelled — access until {format_day(subs[1].current_period_end)}",
        "Active", "Cancelled"])
    assert 'title="Edit Subscription"' in html and 'title="Cancel Subscription"' in html
    assert '<span class="sr-only">Upgrade Plan</span>' in html


@pytest.mark.parametrize(("days", "expected"), [(7, {NAMES[0]}), (30, set(NAMES[:2]))])
def test_access_ends_within_filter(app, client, subs, days, expected):
    login(client, "viewer")
    html = client.get(f"/admin/subscription/?flt0_3={days}").get_data(as_text=True)
    assert "Access ends" in html
    assert {name for name in NAMES if name in html} == expected
