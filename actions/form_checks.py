"""Checks shared by the forms: no hidden text-direction characters in names."""
import re

from wtforms.validators import ValidationError

# Explicit direction marks, embeddings, overrides and isolates: invisible, and able to make
# "Bob‮ moc.live" read as something else in the list, the CSV and the emails.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def no_bidi_controls(form, field):
    """WTForms validator: refuse invisible text-direction characters (U+202A–202E etc.)."""
    found = BIDI_CONTROLS.search(field.data or "")
    if found:
        raise ValidationError(
            f"{field.label.text} contains an invisible text-direction character "
            f"(U+{ord(found.group()):04X}) that can make it read differently; remove it.")
