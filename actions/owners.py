"""Who holds a lease: a worker thread named "host:pid:thread", and whether it has died (a
process of this host that no longer exists). Job leases and the lease on sending a
subscription change use the same names, so a killed worker's leases are taken over at once."""
import os
import socket
import threading


def owner_id():
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def owner_is_dead(owner):
    """True if `owner` was a process on this host that no longer exists."""
    host, _, rest = (owner or "").partition(":")
    if host != socket.gethostname() or not rest:
        return False
    pid = int(rest.split(":")[0])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
