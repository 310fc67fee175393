"""Checks shared by the forms: amounts of money, no hidden text-direction characters."""
import re

from wtforms import DateField, HiddenField, IntegerField
from wtforms.validators import DataRequired, Length, ValidationError

from models.money import parse_amount
from models.text import UNSAFE_TEXT, first_unsafe

BIDI_CONTROLS = UNSAFE_TEXT  # the name older callers use


def no_bidi_controls(form, field):
    """WTForms validator: refuse control characters and invisible text-direction characters
    (models/text.py: the one rule of every customer field)."""
    found = first_unsafe(field.data if isinstance(field.data, str) else "")
    if found:
        raise ValidationError(
            f"{field.label.text} contains an invisible control or text-direction character "
            f"(U+{ord(found):04X}) that can make it read differently; remove it.")


plain_text = no_bidi_controls


# One rule for every number typed or sent that is not an amount (counts, ids, timestamps,
# dates): ASCII digits 0-9 only. Python's int() and strptime() also read Arabic-Indic,
# full-width and other digits ("١" is 1), which no admin means to type in these fields.
PLAIN_DIGITS = re.compile(r"[0-9]{1,19}")


def plain_int(text):
    """The number `text` spells in ASCII digits (no sign, blank or other script), else None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and PLAIN_DIGITS.fullmatch(text):
        return int(text)
    return None


class PlainIntegerField(IntegerField):
    """IntegerField that reads only ASCII digits (see plain_int)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = plain_int(valuelist[0])
        if self.data is None:
            raise ValueError(self.gettext("Type the number with the digits 0-9."))


PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PlainDateField(DateField):
    """DateField that reads only YYYY-MM-DD in ASCII digits (see plain_int)."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] and not PLAIN_DATE.fullmatch(valuelist[0]):
            self.data = None
            raise ValueError(self.gettext("Not a valid date: use YYYY-MM-DD with the digits "
                                          "0-9."))
        super().process_formdata(valuelist)


REQUEST_KEY_MAX = 64  # the request_key columns of Refund and SubscriptionChange


def request_key_field():
    """The form's one-time key (filled in when the form is built): a double click or a form
    sent twice finds the first request. An empty or overlong key is refused, so it can never
    switch that protection off."""
    return HiddenField(validators=[
        DataRequired("This form is damaged or incomplete; open it again. Nothing was changed."),
        Length(max=REQUEST_KEY_MAX)])


class PositiveAmount:
    """WTForms validator: an exact amount above zero in the form's `currency` (read in its
    `locale`); the minor units are left on the form as `<field name>_cents`."""

    def __init__(self, zero_message="Enter an amount greater than zero."):
        self.zero_message = zero_message

    def __call__(self, form, field):
        try:
            cents = parse_amount(field.data, form.currency, form.locale)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if cents <= 0:
            raise ValidationError(self.zero_message)
        setattr(form, f"{field.name}_cents", cents)
