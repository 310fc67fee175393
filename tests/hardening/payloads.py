"""Classic open-redirect payloads and a check that a Location stays on this site."""
from urllib.parse import urljoin, urlsplit

REDIRECT_PAYLOADS = [
    "http:evil.example", "https:evil.example", "http:/evil.example", "https:/evil.example",
    "//evil.example", "///evil.example", "////evil.example/", "/\\evil.example",
    "\\\\evil.example", "\\/evil.example", "http://evil.example", "https://evil.example/admin/",
    "%2F%2Fevil.example", "%5C%5Cevil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)", "java\tscript:alert(1)", "/\t/evil.example",
    "/\n/evil.example", " //evil.example", "http://localhost@evil.example/",
    "data:text/html,<script>alert(1)</script>", "\x00//evil.example",
]
assert len(REDIRECT_PAYLOADS) == 23

BASE = "http://localhost/"


def stays_on_site(location):
    """True when `location` is plainly a path on this site (or an absolute URL of BASE).

    Browsers read `http:evil.example` as `http://evil.example/` and drop tabs and newlines,
    so only a path starting with a single "/" (or BASE itself) counts as staying here.
    """
    if location is None:
        return True
    if any(ch < " " or ch in "\\\x7f" for ch in location):
        return False
    if location.startswith(BASE):
        location = "/" + location[len(BASE):]
    if not location.startswith("/") or location.startswith("//"):
        return False
    target = urlsplit(urljoin(BASE, location))
    return target.scheme == "http" and target.netloc == "localhost"
