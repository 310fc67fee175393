"""Edit customer details and avatar: validation messages, nothing half-saved."""
import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from models import AuditEvent, Customer, db
from tests import factories
from tests.conftest import csrf_token, login

FIELDS = dict(name="Ada Lovelace", email="ada@example.com", company="Analytical Ltd",
              company_id="12345", company_email="billing@analytical.example", tax_id="T-1",
              phone="+44 20 1234 5678", address="1 Engine Row", city="London", state="",
              postal_code="NW1 6XE", country="GB", vat_number="")


@pytest.fixture
def customer():
    c = factories.customer(name="Ada", email="ada@old.example")
    factories.customer(name="Taken", email="taken@example.com")
    db.session.commit()
    return c


def _save(client, customer, **changes):
    data = dict(FIELDS, **changes)
    data["csrf_token"] = csrf_token(client, f"/admin/customer/edit/?id={customer.id}")
    return client.post(f"/admin/customer/edit/?id={customer.id}&url=/admin/customer/?profile={customer.id}",
                       data=data, content_type="multipart/form-data")


def _png(size=(400, 300), fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    buffer.seek(0)
    return buffer


def test_save_updates_every_field_and_returns_with_confirmation(client, customer):
    login(client, "support")
    response = _save(client, customer, vat_number="GB 980 7806 84")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/customer/?profile={customer.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Record was successfully saved." in page and "Saved the details" not in page
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert (saved.company, saved.country, saved.postal_code) == ("Analytical Ltd", "GB", "NW1 6XE")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.edit"))
    assert event.before["email"] == "ada@old.example" and event.after["email"] == "ada@example.com"


@pytest.mark.parametrize("changes, message", [
    ({"email": "not-an-email"}, "An email address must have an @-sign."),
    ({"email": "TAKEN@example.com"}, "Another customer already has this email address."),
    ({"country": "XX"}, "Not a valid choice"),
    ({"country": "DE", "vat_number": "DE123"},
     "DE123: it has the wrong length; it is not a valid VAT number for Germany."),
    ({"country": "", "vat_number": "DE136695976"}, "Choose the country that issued this VAT number."),
    ({"name": ""}, "This field is required."),
    # python-stdnum knows the format: the message says which one is expected
    ({"country": "DE", "vat_number": "XX123"}, "XX123: it is not in the expected format; it is "
     "not a valid VAT number for Germany. Expected Ust ID Nr. (Umsatzsteur Identifikationnummer, German VAT number): The number "
     "is 9 digits long"),
    ({"country": "NO", "vat_number": "XX123"}, "XX123: it is not in the expected format; it is "
     "not a valid VAT number for Norway. Expected MVA (Merverdiavgift, Norwegian VAT number)"),
    ({"country": "IT", "vat_number": "DE136695976"}, "Partita IVA (Italian VAT number): The "
     "Partita IVA (Imposta sul valore aggiunto) consists of 11 digits"),
])
def test_invalid_details_give_the_form_back_with_a_message(client, customer, changes, message):
    login(client, "support")
    response = _save(client, customer, **changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).email == "ada@old.example"


@pytest.mark.parametrize("country, number", [
    ("DE", "DE136695976"), ("DE", "136 695 976"), ("GR", "EL 094259216"),
    ("CH", "CHE-107.787.577 IVA"),
    ("US", "12-3456789"),  # python-stdnum has no US VAT format: kept as typed
])
def test_valid_vat_numbers_are_accepted(client, customer, country, number):
    login(client, "support")
    assert _save(client, customer, country=country, vat_number=number).status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).vat_number == number


def test_avatar_is_resized_stored_outside_the_code_and_served_to_admins_only(app, client, customer):
    login(client, "support")
    assert _save(client, customer, avatar=(_png(), "me.png")).status_code == 302
    db.session.expire_all()
    name = db.session.get(Customer, customer.id).avatar
    assert name.endswith(".webp")
    response = client.get(f"/admin/customer/avatar/{customer.id}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "WEBP" and max(image.size) == 256
    assert app.config["AVATAR_DIR"] not in str(app.root_path)
    anonymous = app.test_client()
    assert anonymous.get(f"/admin/customer/avatar/{customer.id}").status_code == 302


@pytest.mark.parametrize("make_upload, message", [
    (lambda: (io.BytesIO(b"just text, not an image" * 10), "photo.png"), "must be a PNG, JPEG or WebP"),
    (lambda: (_png(fmt="GIF"), "anim.png"), "must be a PNG, JPEG or WebP"),
    (lambda: (io.BytesIO(b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 10)), "big.png"), "larger than 2 MB"),
], ids=["renamed-text", "gif", "over-2MB"])
def test_bad_avatars_are_refused(client, customer, make_upload, message):
    login(client, "support")
    response = _save(client, customer, avatar=make_upload())
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).avatar is None


def test_viewer_cannot_edit(client, customer):
    login(client, "viewer")
    response = client.get(f"/admin/customer/edit/?id={customer.id}")
    assert response.status_code == 302
    page = client.get(f"/admin/customer/profile/{customer.id}/").get_data(as_text=True)
    assert "Edit customers details" not in page


# Issue 21 item 13: the VAT message says what is wrong, at the field and at the top; a chosen
# avatar survives a refusal for another field; an avatar can be removed (audited).

def test_vat_check_digits_are_named_at_the_field_and_at_the_top(client, customer):
    login(client, "support")
    response = _save(client, customer, country="GB", vat_number="GB123456789")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    message = ("GB123456789: the check digits are wrong (a typing error?); it is not a valid "
               "VAT number for United Kingdom.")
    assert page.count(message) == 2, page  # the alert at the top and the field's own message
    assert "Not saved — VAT Number: " + message in page
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).vat_number is None


KEPT_RE = re.compile(r'/admin/customer/avatar/(\d+)/kept/([0-9a-f]{32})')


def test_chosen_avatar_is_kept_when_another_field_is_refused(app, client, customer):
    login(client, "support")
    refused = _save(client, customer, avatar=(_png(), "me.png"), vat_number="GB123456789")
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    customer_id, token = KEPT_RE.search(page).groups()
    assert int(customer_id) == customer.id
    assert f'name="avatar_token" type="hidden" value="{token}"' in page or \
        f'value="{token}"' in page
    kept = client.get(f"/admin/customer/avatar/{customer.id}/kept/{token}")
    assert kept.status_code == 200 and Image.open(io.BytesIO(kept.data)).size == (256, 192)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).avatar is None
    # the form sent again (as the browser does: the token, no file) saves the kept avatar
    saved = _save(client, customer, avatar_token=token)
    assert saved.status_code == 302
    db.session.expire_all()
    name = db.session.get(Customer, customer.id).avatar
    assert name and name.endswith(".webp")
    image = Image.open(io.BytesIO(client.get(f"/admin/customer/avatar/{customer.id}").data))
    assert image.size == (256, 192)
    assert client.get(f"/admin/customer/avatar/{customer.id}/kept/{token}").status_code == 404


@pytest.mark.parametrize("token", ["0" * 32, "../../etc/passwd", "x" * 32])
def test_a_kept_avatar_token_that_names_nothing_is_refused_with_a_message(client, customer,
                                                                         token):
    login(client, "support")
    response = _save(client, customer, avatar_token=token)
    assert response.status_code == 200
    assert "The avatar chosen earlier is no longer kept; choose it again." in \
        response.get_data(as_text=True)
    assert client.get(f"/admin/customer/avatar/{customer.id}/kept/{token}").status_code == 404


def test_avatar_can_be_removed_and_the_removal_is_audited(app, client, customer):
    login(client, "support")
    assert _save(client, customer, avatar=(_png(), "me.png")).status_code == 302
    db.session.expire_all()
    name = db.session.get(Customer, customer.id).avatar
    assert client.get(f"/admin/customer/avatar/{customer.id}").status_code == 200
    form = client.get(f"/admin/customer/edit/?id={customer.id}").get_data(as_text=True)
    assert "Remove the avatar" in form
    assert _save(client, customer, remove_avatar="y").status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).avatar is None
    assert client.get(f"/admin/customer/avatar/{customer.id}").status_code == 404
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "customer.edit").order_by(AuditEvent.id)).all()
    assert (events[-1].before, events[-1].after) == ({"avatar": name}, {"avatar": None})
    # with no avatar, there is nothing to remove
    form = client.get(f"/admin/customer/edit/?id={customer.id}").get_data(as_text=True)
    assert "Remove the avatar" not in form


def test_a_new_avatar_and_remove_together_are_refused(client, customer):
    login(client, "support")
    assert _save(client, customer, avatar=(_png(), "me.png")).status_code == 302
    response = _save(client, customer, avatar=(_png(), "two.png"), remove_avatar="y")
    assert response.status_code == 200
    assert "Choose a new avatar or remove the avatar, not both." in response.get_data(as_text=True)
