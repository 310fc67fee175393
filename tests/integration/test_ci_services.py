"""`.ci/services` on a fresh machine: installs and starts what the tests need, then nothing.

The machine is played by small scripts standing in for apt-get, pg_ctlcluster, pg_isready,
psql, redis-server and redis-cli (PATH holds only them and the core utilities), so the real
services of this machine are never touched.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "env", "ls", "sort", "tail", "seq", "sleep", "sed", "id", "cat", "mkdir",
         "touch", "grep", "chmod", "cp")
STUBS = {
    # apt-get install creates what the package provides
    "apt-get": r'''
echo "apt-get $*" >> "$LOG"
[ "$1" = install ] || exit 0
for pkg in "$@"; do case "$pkg" in
  chromium) printf '#!/bin/sh\n' > "$STUBS/chromium"; chmod +x "$STUBS/chromium";;
  redis-server) for b in redis-server redis-cli; do cp "$STUBS/.$b" "$STUBS/$b"; done;;
  postgresql) mkdir -p "$PG_CONF_DIR/15/main"
    echo "host all all 127.0.0.1/32 scram-sha-256" > "$PG_CONF_DIR/15/main/pg_hba.conf";;
esac; done''',
    "sudo": 'exec "$@"',
    "pg_ctlcluster": r'''
echo "pg_ctlcluster $*" >> "$LOG"
case "$4" in start) touch "$STATE/pg-running";; reload) touch "$STATE/pg-reloaded";; esac''',
    "pg_isready": '[ -e "$STATE/pg-running" ]',
    "psql": r'''[ -e "$STATE/pg-running" ] && [ -e "$STATE/pg-reloaded" ] &&
grep -q "^host all postgres 127.0.0.1/32 trust" "$PG_CONF_DIR/15/main/pg_hba.conf"''',
    ".redis-server": 'echo "redis-server $*" >> "$LOG"; touch "$STATE/redis-running"',
    ".redis-cli": '[ -e "$STATE/redis-running" ]',
}


@pytest.fixture
def machine(tmp_path):
    stubs, state, conf = tmp_path / "bin", tmp_path / "state", tmp_path / "postgresql"
    for folder in (stubs, state, conf):
        folder.mkdir()
    for tool in TOOLS:
        (stubs / tool).symlink_to(shutil.which(tool))
    for name, body in STUBS.items():
        (stubs / name).write_text("#!/bin/bash\n" + body + "\n")
        (stubs / name).chmod(0o755)
    env = {"PATH": str(stubs), "STUBS": str(stubs), "STATE": str(state),
           "LOG": str(tmp_path / "log"), "PG_CONF_DIR": str(conf), "HOME": str(tmp_path)}
    (tmp_path / "log").touch()

    def run():
        done = subprocess.run([str(stubs / "bash"), str(ROOT / ".ci" / "services")], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run.log = tmp_path / "log"
    run.hba = conf / "15" / "main" / "pg_hba.conf"
    return run


@pytest.mark.skipif(os.name != "posix", reason="a Debian shell script")
def test_a_fresh_machine_gets_chromium_postgresql_and_redis_installed_and_started(machine):
    out = machine()
    log = machine.log.read_text().splitlines()
    assert log.count("apt-get update -qq") == 1
    for package in ("chromium", "postgresql", "redis-server"):
        assert f"apt-get install -y -qq {package}" in log, log
        assert f"installing {package} with apt" in out
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in log
    assert machine.hba.read_text().splitlines()[0] == "host all postgres 127.0.0.1/32 trust"
    assert "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save  --appendonly no" \
        in log

    machine.log.write_text("")  # a second run, everything in place: nothing to do
    machine()
    assert machine.log.read_text() == ""
    assert machine.hba.read_text().count("trust") == 1
