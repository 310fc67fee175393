"""The one rule for the text of a customer field: no control characters and no invisible
text-direction characters, wherever the text comes from (the edit form refuses them with a
message; text from a gateway, a sync or an import is cleaned when it is stored).

Control characters (C0 with tab and line breaks, DEL, C1, the line and paragraph separators)
break a one-line field, the CSV and the e-mails; the direction marks, embeddings, overrides
and isolates make "Bob" + U+202E + "moc.live" read as something else in the list, the CSV
and the e-mails."""
import re

UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                         "\u2066-\u2069]")
_BREAKS = re.compile("[\t\n\r\x0b\x0c\u2028\u2029]+")


def first_unsafe(text):
    """The first character of `text` the rule refuses, or None."""
    found = UNSAFE_TEXT.search(text or "")
    return found.group() if found else None


def clean_text(text):
    """`text` with line breaks and tabs as one space and the other refused characters
    removed, stripped; None stays None."""
    if text is None:
        return None
    return UNSAFE_TEXT.sub("", _BREAKS.sub(" ", str(text))).strip()
