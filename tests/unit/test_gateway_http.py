"""The gateways' HTTP sessions read the environment's proxy settings once, when made, not on
every call (requests walks os.environ and looks for ~/.netrc on each call of a session that
trusts the environment: more CPU than the rest of a call). What they do with the settings
is unchanged: the proxy for the gateway's host unless NO_PROXY names it."""
from datetime import datetime, timedelta, timezone

import requests.sessions

from actions.gateways.http import gateway_session
from actions.gateways.paypal import PayPalGateway
from actions.gateways.paypal_sync import PayPalReader
from actions.gateways.stripe import StripeGateway
from actions.gateways.stripe_sync import StripeReader


def test_the_session_takes_the_proxy_for_the_gateways_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "sandbox.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    session = gateway_session("https://api-m.paypal.com")
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/company.pem" and session.trust_env is False
    assert gateway_session("http://sandbox.internal:8000").proxies == {}


def test_calls_do_not_read_the_environment_again(sandbox, monkeypatch):
    reads = []
    environ_proxies = requests.sessions.get_environ_proxies
    monkeypatch.setattr(requests.sessions, "get_environ_proxies",
                        lambda *a, **k: reads.append(a) or environ_proxies(*a, **k))
    config = sandbox.config()
    paypal = PayPalReader(PayPalGateway(config["PAYPAL_CLIENT_ID"],
                                        config["PAYPAL_CLIENT_SECRET"],
                                        config["PAYPAL_API_BASE"], max_retries=0))
    stripe = StripeReader(StripeGateway(config["STRIPE_API_KEY"], config["STRIPE_API_BASE"],
                                        max_retries=0))
    now = datetime.now(timezone.utc)
    for _ in range(3):
        assert paypal.transactions(now - timedelta(days=1), now)[0] == []
        assert stripe.page("customers")[0] == []
    assert reads == []  # before: two a call (requests' per-call look at the environment)
