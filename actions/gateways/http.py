"""The gateways' HTTP sessions: the environment's proxy and CA settings read once, when a
session is made, instead of on every call.

requests reads them on every call of a session that trusts the environment: it walks
os.environ for *_proxy variables (twice) and looks for a ~/.netrc, which took more CPU than
the rest of a call to the sandbox (a gateway call costs as much client work in production).
What such a session does with them is kept: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY for the
gateway's host unless NO_PROXY names it, REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE. A ~/.netrc is
no longer read: it would have replaced the gateway's own Authorization header."""
import os

import requests
from requests.utils import get_environ_proxies


def gateway_session(base_url):
    """A requests Session for calls to `base_url`, with the environment's settings for it."""
    session = requests.Session()
    session.proxies.update(get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session
