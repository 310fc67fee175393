"""Stopping the child processes the tests start (servers on loopback)."""
import subprocess


def stop(process, timeout):
    """Terminate a child process; kill it if it has not exited after `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
