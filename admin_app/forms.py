"""The Edit customer details form: every export field plus the avatar, with clear messages."""
import re

import pycountry
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from stdnum import get_cc_module
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from actions.avatars import MAX_PIXELS, AvatarError, read_avatar
from actions.form_checks import no_bidi_controls
from admin_app import pending_avatar
from models import Customer, db
from models.country import country_name
from models.customer import DETAIL_FIELDS

COUNTRY_CHOICES = [SelectChoice("", "—")] + sorted(
    (SelectChoice(c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries),
    key=lambda c: c.label)


def _email_syntax(form, field):
    if field.data:
        try:
            field.data = validate_email(field.data.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError(str(exc)) from None


def vat_module(country):
    """python-stdnum's module for the VAT number of `country` (alpha-2), None if it has none."""
    try:
        return get_cc_module(country.lower(), "vat")
    except (ImportError, AttributeError, ValueError):
        return None


def expected_format(module):
    """What python-stdnum says such a number looks like: its name, the format, an example."""
    paragraphs = [" ".join(p.split()) for p in (module.__doc__ or "").split("\n\n")]
    name = paragraphs[0].rstrip(".") if paragraphs else "the VAT number"
    described = next((p for p in paragraphs[1:]
                      if p and not p.startswith((">>>", "*", "More information"))), "")
    sentence = re.split(r"(?<=[a-z0-9)])\. ", described, maxsplit=1)[0].rstrip(".")
    example = re.search(r">>> validate\('([^']+)'\)\n'", module.__doc__ or "")
    text = f"Expected {name}" + (f": {sentence}" if sentence else "") + "."
    return text + (f" For example {example.group(1).strip()}." if example else "")


#: what is wrong, by python-stdnum's reason (its exception class)
VAT_REASONS = [
    (InvalidChecksum, "the check digits are wrong (a typing error?)"),
    (InvalidLength, "it has the wrong length"),
    (InvalidFormat, "it is not in the expected format"),
    (InvalidComponent, "a part of it is not valid"),
]


def vat_error(number, country):
    """A message when `number` is not a valid VAT number for `country`, else None.

    Checked with python-stdnum where it knows the country's format (the number may carry the
    country's prefix or not); accepted as typed for a country it does not know. The message
    says what is wrong, from python-stdnum's own reason: "GB123456789: the check digits are
    wrong (a typing error?); it is not a valid VAT number for United Kingdom."
    """
    if not country:
        return "Choose the country that issued this VAT number."
    module = vat_module(country)
    if module is None:
        return None
    try:
        module.validate(number)
    except Exception as exc:  # python-stdnum's ValidationError family, and odd input
        reason = next((text for kind, text in VAT_REASONS if isinstance(exc, kind)),
                      "it is not valid")
        message = f"{number}: {reason}; it is not a valid VAT number for {country_name(country)}."
        if isinstance(exc, InvalidChecksum):
            return message
        return f"{message} {expected_format(module)}"
    return None


class CustomerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200), no_bidi_controls])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), _email_syntax, no_bidi_controls])
    company = StringField("Company", validators=[Optional(), Length(max=200), no_bidi_controls])
    company_id = StringField("Company ID", validators=[Optional(), Length(max=64), no_bidi_controls])
    company_email = EmailField("Company Email",
                               validators=[Optional(), Length(max=254), _email_syntax, no_bidi_controls])
    tax_id = StringField("Tax ID", validators=[Optional(), Length(max=64), no_bidi_controls])
    phone = StringField("Phone", validators=[Optional(), Length(max=64), no_bidi_controls])
    address = StringField("Address", validators=[Optional(), Length(max=300), no_bidi_controls])
    city = StringField("City", validators=[Optional(), Length(max=120), no_bidi_controls])
    state = StringField("State", validators=[Optional(), Length(max=120), no_bidi_controls])
    postal_code = StringField("Zip/Postal Code", validators=[Optional(), Length(max=32), no_bidi_controls])
    country = SelectField("Country", choices=COUNTRY_CHOICES, validate_choice=True)
    vat_number = StringField("VAT Number", validators=[Optional(), Length(max=32), no_bidi_controls])
    avatar = FileField("Avatar (PNG, JPEG or WebP, up to 2 MB)")
    # the avatar chosen on a form that was refused for another field (admin_app/pending_avatar.py)
    avatar_token = HiddenField()
    remove_avatar = BooleanField("Remove the avatar")

    def __init__(self, *args, customer_id=None, max_avatar_bytes=2 * 1024 * 1024,
                 max_avatar_pixels=MAX_PIXELS, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id = customer_id
        self.max_avatar_bytes = max_avatar_bytes
        self.max_avatar_pixels = max_avatar_pixels
        self.avatar_image = None

    def validate_email(self, field):
        query = select(Customer.id).where(func.lower(Customer.email) == field.data.lower())
        if self.customer_id is not None:
            query = query.where(Customer.id != self.customer_id)
        if db.session.scalar(query.limit(1)) is not None:
            raise ValidationError("Another customer already has this email address.")

    def validate_vat_number(self, field):
        if field.data:
            message = vat_error(field.data.strip(), self.country.data)
            if message:
                raise ValidationError(message)

    def validate_avatar(self, field):
        """A new upload; else the one kept from a refused submission of this form."""
        if field.data and getattr(field.data, "filename", ""):
            stream = field.data.stream
        elif self.avatar_token.data and self.customer_id is not None:
            if self.removing_avatar():  # the kept one is not wanted either
                pending_avatar.drop(self.customer_id, self.avatar_token.data)
                self.avatar_token.data = ""
                return
            try:
                stream = pending_avatar.open_kept(self.customer_id, self.avatar_token.data)
            except FileNotFoundError:
                self.avatar_token.data = ""
                raise ValidationError("The avatar chosen earlier is no longer kept; "
                                      "choose it again.") from None
        else:
            return
        try:
            self.avatar_image = read_avatar(stream, self.max_avatar_bytes,
                                            self.max_avatar_pixels)
        except AvatarError as exc:
            raise ValidationError(str(exc)) from None
        if self.removing_avatar():
            raise ValidationError("Choose a new avatar or remove the avatar, not both.")

    def removing_avatar(self):
        """Whether "Remove the avatar" is ticked (the box is there only when there is one)."""
        return bool(getattr(self, "remove_avatar", None) and self.remove_avatar.data)

    def errors_text(self):
        """'VAT Number: GB123…: the check digits are wrong; …' for the message at the top."""
        return "; ".join(f"{getattr(self, name).label.text}: {' '.join(map(str, messages))}"
                         for name, messages in self.errors.items())

    def details(self):
        """The submitted details as plain values, blanks as None."""
        return {key: (getattr(self, key).data or "").strip() or None for key, _ in DETAIL_FIELDS}

    def populate_obj(self, obj):
        """Flask-Admin calls this; the update goes through actions.customer_details instead."""
