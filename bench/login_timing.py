"""Login answer times with production argon2 parameters: known vs unknown e-mail.

    python -m bench.login_timing [--repeats 30]

Prints one `name=value` line per figure (milliseconds, medians). The two refused cases must
cost the same (one argon2 verification each), so their medians should differ by noise only.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from admin_app import create_app
from admin_app.cli import ensure_admin
from models import db

CASES = {"known_wrong_password": "owner@example.com", "unknown_email": "nobody@example.com",
         "known_right_password": "owner@example.com"}
PASSWORD = "correct horse battery"


def _time_ms(client, email, password):
    start = time.perf_counter()
    client.post("/login", data={"email": email, "password": password})
    return (time.perf_counter() - start) * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
                          "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "RATELIMIT_ENABLED": False, "AVATAR_DIR": tmp})
        with app.app_context():
            ensure_admin("owner@example.com", "owner", PASSWORD)
            client, times = app.test_client(), {name: [] for name in CASES}
            for _ in range(args.repeats):  # interleaved: load on the machine hits all cases
                for name, email in CASES.items():
                    password = PASSWORD if name == "known_right_password" else "wrong password"
                    times[name].append(_time_ms(client, email, password))
            for name, values in times.items():
                print(f"login_{name}_ms={statistics.median(values):.1f}")
            db.engine.dispose()


if __name__ == "__main__":
    main()
