"""A sandbox of Stripe and PayPal for the demo and the tests: loopback HTTP servers that
answer the calls the panel's adapters make, in today's shapes, keep state, move a clock and
deliver signed webhooks to the panel. Never imported on a production request path."""
from sandbox.core import Sandbox
from sandbox.server import Server

__all__ = ["Sandbox", "Server"]
