"""A loopback HTTP proxy that forwards a request, lets the server act, then resets the
connection instead of answering: "the refund was made, the answer was lost"."""
import contextlib
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._forward()

    def do_POST(self):
        self._forward()

    def _forward(self):
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        answer = requests.request(self.command, proxy.upstream + self.path, data=body,
                                  headers=headers, timeout=30)
        if proxy.should_reset(self.command, self.path):
            # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                   "content-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args):
        pass


class ResetAfterSuccess:
    """Forwards to `upstream`; the first `times` requests whose path ends with `suffix` reach
    the server and are answered with a connection reset."""

    def __init__(self, upstream, suffix, times=1):
        self.upstream, self.suffix, self.left = upstream, suffix, times
        self.resets = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def should_reset(self, method, path):
        with self._lock:
            if method == "POST" and path.split("?")[0].endswith(self.suffix) and self.left:
                self.left -= 1
                self.resets += 1
                return True
            return False


@contextlib.contextmanager
def reset_after_success(upstream, suffix, times=1):
    """Run a ResetAfterSuccess proxy on a free loopback port for the block."""
    proxy = ResetAfterSuccess(upstream, suffix, times)
    thread = threading.Thread(target=proxy._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy._server.shutdown()
        proxy._server.server_close()
