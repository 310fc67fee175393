"""localstripe (a stateful fake Stripe) on a free 127.0.0.1 port, emptied before each test."""
import socket
import subprocess
import sys
import tempfile

import pytest
import requests

from tests.fakes.loopback import stop

API_KEY = "sk_test_memberdesk_localstripe"

# localstripe's CLI binds every interface ("::") and pickles its data to the fixed path
# /tmp/localstripe.pickle on every write (and reloads it at start). This launcher serves the
# same aiohttp app on a socket the test process bound to 127.0.0.1, with data in memory only.
_LAUNCHER = """
import socket, sys
from aiohttp import web
from localstripe import server
server.store.dump_to_disk = lambda: None
web.run_app(server.app, sock=socket.socket(fileno=int(sys.argv[1])), print=None,
            access_log=None)
"""


class LocalStripe:
    """A localstripe instance: its URL, plus the calls a test needs to set up payments."""

    def __init__(self, url):
        self.url = url
        self.api_key = API_KEY

    def get(self, path):
        """GET an object, e.g. get("/v1/charges/ch_...")."""
        return self._request("GET", path)

    def post(self, path, **data):
        """POST form data, e.g. post("/v1/customers", email="a@example.com")."""
        return self._request("POST", path, data=data)

    def card_payment(self, amount_cents, currency="eur"):
        """A customer and a confirmed PaymentIntent paid with the test card pm_card_visa."""
        customer = self.post("/v1/customers", email="buyer@example.com")
        return self.post("/v1/payment_intents", amount=amount_cents, currency=currency,
                         customer=customer["id"], payment_method="pm_card_visa",
                         confirm="true")

    def card_charge(self, amount_cents, currency="eur"):
        """A customer and a direct Charge on the test card pm_card_visa."""
        customer = self.post("/v1/customers", email="buyer@example.com")
        return self.post("/v1/charges", amount=amount_cents, currency=currency,
                         customer=customer["id"], source="pm_card_visa")

    def subscription(self, amount_cents, currency="eur", interval="month"):
        """A customer paying by pm_card_visa, subscribed to a new Plan; the subscription."""
        customer = self.post("/v1/customers", email="member@example.com",
                             payment_method="pm_card_visa",
                             **{"invoice_settings[default_payment_method]": "pm_card_visa"})
        plan = self.post("/v1/plans", amount=amount_cents, currency=currency,
                         interval=interval, **{"product[name]": "Membership"})
        return self.post("/v1/subscriptions", customer=customer["id"],
                         **{"items[0][plan]": plan["id"]})

    def _request(self, method, path, **kwargs):
        response = requests.request(method, self.url + path, auth=(API_KEY, ""), timeout=10,
                                    **kwargs)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def localstripe_url():
    """Base URL of one localstripe process for the session, reachable on loopback only."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(listener.fileno())],
                                   pass_fds=[listener.fileno()], stdout=log, stderr=log)
        listener.close()
        try:
            _wait_until_up(url, process, log)
            yield url
        finally:
            stop(process, 5)


def _wait_until_up(url, process, log):
    """Block until localstripe answers; fail with its output if it does not."""
    try:
        requests.delete(f"{url}/_config/data", timeout=30).raise_for_status()
    except requests.RequestException as e:
        process.kill()
        process.wait()
        log.seek(0)
        output = log.read().decode(errors="replace")
        pytest.fail(f"localstripe did not start ({e}):\n{output}", pytrace=False)


@pytest.fixture
def localstripe(localstripe_url):
    """The session's localstripe with all its data deleted (customers, payments, refunds)."""
    requests.delete(f"{localstripe_url}/_config/data", timeout=10).raise_for_status()
    return LocalStripe(localstripe_url)
