"""Faults a gateway fake can be told to answer with: one vocabulary for both fakes.

"timeout": the fake acts, then its answer is lost: the client's transport (lost_answers(),
installed for every test by tests/conftest.py) raises the read timeout at once, as if it had
waited; "reset": the fake acts, then drops the connection without an answer; an HTTP status:
the vendor's error answer, nothing done; "decline": the vendor's "no" for that verb (card
declined, status invalid). No test waits for a hang.
"""
import socket
import struct
import threading

FAULTS = ("timeout", "reset", 404, 409, 422, 429, 500)
#: the vendor acts, then answers 500 anyway (a change applied but reported as failed)
APPLIED_500 = "applied_500"
#: the answer waits until release() (a slow gateway; `Faults.holding` is set meanwhile)
HOLD = "hold"
#: the header of an answer the client must treat as never arrived (a read timeout)
LOST = "X-Test-Answer-Lost"
_ENVIRON = "memberdesk.test.answer_lost"


def lose_answer(request):
    """The answer to this request will be marked lost (see mark_lost)."""
    request.environ[_ENVIRON] = True


def mark_lost(response, request=None):
    """Mark `response` lost when asked (request given) or always; returns it."""
    if request is None or request.environ.get(_ENVIRON):
        response.headers[LOST] = "timeout"
    return response


def lost_answers():
    """Make requests raise ReadTimeout at once for answers marked lost: the vendor acted,
    the client never heard (what a timeout is), without waiting for one."""
    import requests
    from requests.adapters import HTTPAdapter
    if getattr(HTTPAdapter.send, "_lost_answers", False):
        return
    send = HTTPAdapter.send

    def send_or_lose(self, request, **kwargs):
        response = send(self, request, **kwargs)
        if response.headers.get(LOST):
            response.close()
            raise requests.exceptions.ReadTimeout(
                f"(test) {request.url}: read timed out", request=request)
        return response
    send_or_lose._lost_answers = True
    HTTPAdapter.send = send_or_lose


class Faults:
    """A queue of faults for the next calls that change or read a subscription."""

    def __init__(self):
        self._queue = []
        self._lock = threading.Lock()
        self.released = threading.Event()
        self.holding = threading.Event()  # an answer is being held (HOLD)

    def add(self, fault, times=1):
        if fault not in FAULTS + ("decline", APPLIED_500, HOLD):
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._queue.extend([fault] * times)
            self.released.clear()  # answers hung by earlier faults were let go already

    def next(self):
        with self._lock:
            return self._queue.pop(0) if self._queue else None

    def release(self):
        self.released.set()

    def after_acting(self, fault, request):
        """For "timeout" and "reset": make the answer not arrive (the effect stays); for
        HOLD: answer only once released (at most 30 s: a test never hangs for good)."""
        if fault == HOLD:
            self.holding.set()
            self.released.wait(30)
        elif fault == "timeout":
            lose_answer(request)
        elif fault == "reset":
            sock = request.environ["werkzeug.socket"]
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
