"""Issue 13, Uploads: through the Edit customer form, a huge-canvas PNG is refused, nothing saved."""
import io
import os

import pytest

from models import Customer, db
from tests import factories
from tests.conftest import csrf_token, login
from tests.hardening.images import bomb_png, small_image


@pytest.fixture
def customer(app):
    c = factories.customer(name="Ada", email="ada@example.com")
    db.session.commit()
    return c


def _upload(client, customer, data, name="me.png"):
    return client.post(f"/admin/customer/edit/?id={customer.id}", data={
        "csrf_token": csrf_token(client, f"/admin/customer/edit/?id={customer.id}"),
        "name": "Ada", "email": "ada@example.com", "country": "",
        "avatar": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.mark.parametrize("size", [(13000, 13000), (4001, 4000)])
def test_a_huge_canvas_is_refused_with_a_message_and_nothing_is_stored(app, client, customer,
                                                                       size, reliability):
    login(client, "support")
    response = _upload(client, customer, bomb_png(*size))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "16,000,000 pixels" in page
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).avatar is None
    assert not os.path.exists(app.config["AVATAR_DIR"]) or not os.listdir(app.config["AVATAR_DIR"])
    reliability.count("uploads")


def test_the_pixel_limit_follows_the_configuration(app, client, customer, reliability):
    app.config["AVATAR_MAX_PIXELS"] = 32 * 32
    login(client, "support")
    assert "1,024 pixels" in _upload(client, customer, small_image()).get_data(as_text=True)
    app.config["AVATAR_MAX_PIXELS"] = 64 * 48
    assert _upload(client, customer, small_image()).status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).avatar
    reliability.count("uploads", 2)
