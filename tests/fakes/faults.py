"""Faults a gateway fake can be told to answer with: one vocabulary for both fakes.

"timeout": the fake acts, then answers only after the client gave up; "reset": the fake acts,
then drops the connection without an answer; an HTTP status: the vendor's error answer,
nothing done; "decline": the vendor's "no" for that verb (card declined, status invalid).
"""
import socket
import struct
import threading

FAULTS = ("timeout", "reset", 404, 409, 422, 429, 500)
#: the vendor acts, then answers 500 anyway (a change applied but reported as failed)
APPLIED_500 = "applied_500"
#: how long a "timeout" answer waits (the adapters under test give up after 1 s)
HANG_SECONDS = 4


class Faults:
    """A queue of faults for the next calls that change or read a subscription."""

    def __init__(self):
        self._queue = []
        self._lock = threading.Lock()
        self.released = threading.Event()

    def add(self, fault, times=1):
        if fault not in FAULTS + ("decline", APPLIED_500):
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
        """For "timeout" and "reset": make the answer not arrive (the effect stays)."""
        if fault == "timeout":
            self.released.wait(HANG_SECONDS)
        elif fault == "reset":
            sock = request.environ["werkzeug.socket"]
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
