"""The sandbox on loopback: one threaded HTTP server, Stripe under /stripe, PayPal under
/paypal, and its own controls (the clock, faults, disputes) under /_sandbox."""
import io
import json
import re
import socket
import struct
import threading
import time
import traceback

from werkzeug import Request, Response
from werkzeug.datastructures import Headers
from werkzeug.serving import WSGIRequestHandler, make_server

from sandbox.core import Call, Sandbox, VendorError

#: the header of an answer a test's transport treats as lost (a read timeout at once)
LOST_ANSWER = "X-Test-Answer-Lost"
#: calls that change nothing: faults queued for changes leave them alone
_READS = ("/v1/oauth2/token", "/v1/notifications/verify-webhook-signature")


class App:
    """The WSGI application answering for one Sandbox."""

    def __init__(self, sandbox):
        self.sb = sandbox
        self.tables = {
            "stripe": [(m, re.compile(p + "$"), h) for m, p, h in sandbox.stripe.routes],
            "paypal": [(m, re.compile(p + "$"), h) for m, p, h in sandbox.paypal.routes]}

    def __call__(self, environ, start_response):
        request = Request(environ)
        vendor, _, path = request.path.lstrip("/").partition("/")
        path = "/" + path
        if vendor == "_sandbox":
            response = self.control(request, path)
        elif vendor in self.tables:
            response = self.vendor(vendor, request, path)
        else:
            response = _json({"error": "not found"}, 404)
        return response(environ, start_response)

    def vendor(self, vendor, request, path):
        found = next(((handler, match) for method, pattern, handler in self.tables[vendor]
                      if method == request.method and (match := pattern.match(path))), None)
        if found is None:
            if vendor == "stripe":
                return self._stripe(404, {"error": {
                    "type": "invalid_request_error",
                    "message": f"Unrecognized request URL ({request.method}: {path})."}})
            return self._paypal(404, {"name": "RESOURCE_NOT_FOUND",
                                      "message": "The specified resource does not exist."})
        handler, match = found
        params = self._params(vendor, request, path)
        # a preview changes nothing, but a fault queued for the next change hits it too
        changes = request.method in ("POST", "DELETE") and path not in _READS
        if self.sb.latency:
            time.sleep(self.sb.latency)
        with self.sb.lock:
            call = len(self.sb.calls)
            self.sb.calls.append(Call(vendor, request.method, path, Headers(request.headers),
                                      params, None))
            if vendor == "stripe" and not self.sb.stripe.authorized(request):
                return self._stripe(401, {"error": {
                    "type": "invalid_request_error",
                    "message": "Invalid API Key provided: sk_test_****"}})
            if vendor == "paypal" and path != "/v1/oauth2/token" and \
                    not self.sb.paypal.authorized(request):
                return self._paypal(401, {"error": "invalid_token",
                                          "error_description": "Access Token not found in "
                                                               "cache"})
            reads = request.method == "GET" or (path in _READS and
                                                 path != "/v1/oauth2/token")
            fault = self.sb.next_fault(vendor) if changes else \
                self.sb.next_fault(vendor, reads=True) if reads else None
            if isinstance(fault, VendorError):
                return self._vendor_error(vendor, fault)
            if isinstance(fault, int):
                return self._fault(vendor, fault)
            if fault == "decline":
                status, body = _declined(vendor, path)
            else:
                status, body = handler(request, params, **match.groupdict())
            self.sb.calls[call] = self.sb.calls[call]._replace(status=status)
            response = self._stripe(status, body) if vendor == "stripe" else \
                self._paypal(status, body)  # what the vendor held when asked
        if self.sb.record:
            self.sb.exchanges.append((vendor, request.method, path, params, status, body))
        if fault == "reset":
            _reset(request)
        if fault == "applied_500":  # the vendor acted, and says it failed
            return self._fault(vendor, 500)
        if fault == "hold":  # a slow answer: the lock is not held meanwhile
            self.sb.holding.set()
            self.sb.released.wait(30)
        if fault == "timeout":
            if self.sb.hang_seconds:
                time.sleep(self.sb.hang_seconds)
            else:  # the tests' transport raises its read timeout at once
                # (tests/gateway_sandbox.lost_answers)
                response.headers[LOST_ANSWER] = "timeout"
        return response

    def _params(self, vendor, request, path):
        if vendor == "stripe":
            from sandbox.stripe_api import nested
            pairs = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
            return nested(pairs)
        if request.method == "GET" or path == "/v1/oauth2/token":
            return {**request.args.to_dict(), **request.form.to_dict()}
        return request.get_json(silent=True) if request.data else {}

    def _stripe(self, status, body):
        return _json(body, status, {"Request-Id": "req_" + _hex(14),
                                    "Stripe-Version": "2026-10-28.sandbox"})

    def _paypal(self, status, body):
        if body is None:
            return Response(status=status, headers={"Paypal-Debug-Id": _hex(13)})
        return _json(body, status, {"Paypal-Debug-Id": _hex(13)})

    def _fault(self, vendor, status):
        return self._vendor_error(vendor, VendorError(status, {}, {}))

    def _vendor_error(self, vendor, fault):
        """The vendor's error answer for `fault.status`, with the fields given."""
        status, fields = fault.status, fault.fields
        if vendor == "stripe":
            from sandbox.stripe_api import error
            kinds = {403: ("The provided key does not have the required permissions for this "
                           "endpoint.", None, "invalid_request_error"),
                     404: ("Unrecognized request URL.", None, "invalid_request_error"),
                     422: ("This request cannot be processed.", None,
                           "invalid_request_error"),
                     429: ("Too many requests hit the API too quickly.", "rate_limit",
                           "invalid_request_error"),
                     409: ("There is currently another in-progress request using this "
                           "Stripe API key.", "lock_timeout", "invalid_request_error")}
            message, code, kind = kinds.get(status, ("An unknown error occurred", None,
                                                     "api_error" if status >= 500 else
                                                     "invalid_request_error"))
            response = self._stripe(*error(
                fields.get("message", message), fields.get("code", code),
                fields.get("param"), error_type=fields.get("error_type", kind),
                status=status))
        else:
            from sandbox.paypal_api import error
            names = {403: ("NOT_AUTHORIZED", "PERMISSION_DENIED",
                           "You do not have permission to access or perform operations on "
                           "this resource."),
                     404: ("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                           "Requested resource ID was not found."),
                     409: ("RESOURCE_CONFLICT", "DUPLICATE_REQUEST_ID",
                           "A request with this PayPal-Request-Id is being processed."),
                     422: ("UNPROCESSABLE_ENTITY", "SUBSCRIPTION_STATUS_INVALID",
                           "Invalid subscription status for this action."),
                     429: ("RATE_LIMIT_REACHED", None, None),
                     503: ("SERVICE_UNAVAILABLE", None, None)}
            name, issue, description = names.get(status, ("INTERNAL_SERVER_ERROR", None,
                                                          None))
            if "name" in fields and "issue" not in fields:
                issue = description = None  # another error than the usual one
            response = self._paypal(*error(status, fields.get("name", name),
                                           fields.get("issue", issue),
                                           fields.get("description", description)))
        response.headers.extend(fault.headers)
        return response

    def control(self, request, path):
        """POST /_sandbox/advance {"days": N}, /decline {"ref"}, /dispute {"ref"},
        /decide {"ref", "won"}; GET /_sandbox/state."""
        from sandbox.control import handle
        try:
            status, body = handle(self.sb, request.method, path,
                                  request.get_json(silent=True) or {})
        except (LookupError, ValueError) as e:
            status, body = 400, {"error": str(e).strip("'\"")}
        return _json(body, status)


def _declined(vendor, path):
    if vendor == "stripe":
        from sandbox.stripe_api import error
        return error("Your card was declined.", "card_declined", error_type="card_error",
                     status=402)
    from sandbox.paypal_api import error
    if "/refund" in path:
        return error(422, "UNPROCESSABLE_ENTITY", "REFUND_NOT_ALLOWED",
                     "Full refund refused - partial refund has already been done on this "
                     "payment. You cannot refund this capture.")
    return error(422, "UNPROCESSABLE_ENTITY", "SUBSCRIPTION_STATUS_INVALID",
                 "Invalid subscription status for this action.")


def _reset(request):
    """Drop the connection without an answer (the vendor acted; the client never hears)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)


def _hex(n):
    import secrets
    return secrets.token_hex(n)[:n]


def _json(body, status, headers=None):
    return Response(json.dumps(body), status=status, content_type="application/json",
                    headers=headers or {})


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler, except that a connection stays open for the client's next call
    (werkzeug closes every one): a call costs no TCP connection and no new thread, as with
    the vendors' own kept-alive HTTPS connections. A "reset" fault still drops it."""

    #: answer at once: without TCP_NODELAY a kept-alive connection waits for the client's
    #: delayed ACK between the headers and the body (about 5 ms a call on loopback)
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):
        pass  # the panel's own log says what it asked

    def run_wsgi(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() or \
                self.headers.get("Expect", "").lower().strip() == "100-continue":
            return super().run_wsgi()  # werkzeug's way, the connection closed after
        environ = self.make_environ()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        # the body read whole: the next request on this connection starts right after it
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length > 0 else b"")
        self.environ = environ
        started = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]
            return lambda data: None
        try:
            body = b"".join(self.server.app(environ, start_response))
        except Exception:  # noqa: BLE001 - a sandbox bug answers 500, as werkzeug's would
            self.server.log("error", "Error on request:\n%s", traceback.format_exc())
            started[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]]
            body, self.close_connection = b"Internal Server Error", True
        code, _, reason = started[0].partition(" ")
        try:
            self.send_response(int(code), reason)
            names = set()
            for name, value in started[1]:
                self.send_header(name, value)
                names.add(name.lower())
            if "content-length" not in names:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:  # a "reset" fault shut the socket: no answer, no next request
            self.close_connection = True


class Server:
    """A running sandbox: `url`, `stripe_base`, `paypal_base`; stop() ends it."""

    def __init__(self, sandbox=None, host="127.0.0.1", port=0):
        self.sandbox = sandbox or Sandbox()
        self._server = make_server(host, port, App(self.sandbox), threaded=True,
                                   request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self.port = self._server.socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.sandbox.url = self.url
        self.stripe_base = self.url + "/stripe"
        self.paypal_base = self.url + "/paypal"
        self._thread = None

    def reset(self, sandbox=None):
        """Answer for a new (or the given) Sandbox from now on: a test's clean state on a
        server that keeps running."""
        sandbox = sandbox or Sandbox()
        sandbox.url = self.url
        self.sandbox = sandbox
        self._server.app = App(sandbox)
        return sandbox

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True,
                                        name="sandbox-http")
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def config(self, panel_url=None):
        """The panel's settings that point its adapters (and webhooks) at this sandbox."""
        sb = self.sandbox
        if panel_url:
            sb.targets = {"stripe": f"{panel_url}/webhooks/stripe",
                          "paypal": f"{panel_url}/webhooks/paypal"}
        return {"STRIPE_API_KEY": sb.stripe_key, "STRIPE_API_BASE": self.stripe_base,
                "STRIPE_WEBHOOK_SECRET": sb.webhook_secret,
                "PAYPAL_CLIENT_ID": sb.paypal_client[0],
                "PAYPAL_CLIENT_SECRET": sb.paypal_client[1],
                "PAYPAL_API_BASE": self.paypal_base, "PAYPAL_WEBHOOK_ID": sb.paypal_webhook_id}
