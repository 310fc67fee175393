"""Catalog: owners manage plans and affiliates through Flask-Admin's forms (with CSRF)."""
from sqlalchemy import select

from models import Affiliate, db
from tests.conftest import csrf_token, login


def test_owner_creates_an_affiliate(client):
    login(client, "owner")
    token = csrf_token(client, "/admin/affiliate/new/")
    response = client.post("/admin/affiliate/new/", data={
        "name": "Podcast Partner", "email": "pod@example.com", "commission_rate_bp": "1500",
        "csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(Affiliate.commission_rate_bp)) == 1500


def test_rate_above_100_percent_is_refused(client):
    login(client, "owner")
    token = csrf_token(client, "/admin/affiliate/new/")
    page = client.post("/admin/affiliate/new/", data={
        "name": "Greedy", "email": "g@example.com", "commission_rate_bp": "10001",
        "csrf_token": token}).get_data(as_text=True)
    assert "Number must be between 0 and 10000" in page
    assert db.session.scalar(select(Affiliate)) is None


def test_finance_cannot_create_catalog_entries(client):
    login(client, "finance")
    assert client.get("/admin/affiliate/new/").status_code == 302
    page = client.get("/admin/affiliate/").get_data(as_text=True)
    assert "/admin/affiliate/new/" not in page
