"""A threaded pytest-httpserver on a free 127.0.0.1 port, shared by the gateway fakes."""
import contextlib
import subprocess

from pytest_httpserver import HTTPServer


@contextlib.contextmanager
def loopback_server():
    """Start a threaded HTTPServer on loopback; stop it when the block ends."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@contextlib.contextmanager
def fresh_handlers(server):
    """Give a test the server without handlers; fail it if the fake broke or was missed."""
    server.clear()
    yield server
    server.check_handler_errors()
    server.check_assertions()


def stop(process, timeout):
    """Terminate a child process; kill it if it has not exited after `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
