"""Command-line tools: create-admin, recompute-ltv, and the startup database check."""
import re
import subprocess
import sys

from sqlalchemy import func, select

from models import AdminUser, Customer, db
from tests import factories
from tests.conftest import csrf_token


def test_create_admin_with_password_then_login(app, client):
    result = app.test_cli_runner().invoke(args=["create-admin", "Boss@Example.com", "--role",
                                                "finance", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(AdminUser))
    assert (user.email, user.role) == ("boss@example.com", "finance")
    assert user.password_hash.startswith("$argon2") and user.check_password("a long password")


def test_create_admin_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "x@example.com"],
                                          input="a long password\na long password\n")
    assert result.exit_code == 0 and "Password" in result.output
    assert db.session.scalar(select(AdminUser.role)) == "owner"


def test_create_admin_refuses_short_passwords(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "x@example.com", "--password", "short"])
    assert result.exit_code != 0 and db.session.scalar(select(AdminUser)) is None


def test_recompute_ltv_finds_and_fixes_planted_drift(app):
    good, bad = factories.customer(), factories.customer()
    factories.payment(good, 1000)
    factories.payment(bad, 2000)
    factories.payment(bad, 700, currency="EUR", settlement_currency="EUR")  # settled in EUR:
    # never counted in a USD store
    factories.payment(bad, 300, status="failed")
    db.session.commit()
    bad.lifetime_value_cents = 9999  # the planted drift
    db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["recompute-ltv", "--dry-run"])
    assert dry.exit_code == 1
    assert f"customer {bad.id}: stored $99.99, actual $20.00" in dry.output
    assert f"customer {good.id}:" not in dry.output
    fixed = runner.invoke(args=["recompute-ltv"])
    assert fixed.exit_code == 0 and "fixed for 1 customer" in fixed.output
    db.session.expire_all()
    assert db.session.get(Customer, bad.id).lifetime_value_cents == 2000
    assert "No drift" in runner.invoke(args=["recompute-ltv"]).output


def test_unreachable_database_gives_one_clear_line(tmp_path):
    env = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none", "SECRET_KEY": "x",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], capture_output=True,
                            text=True, env=env, cwd=str(app_root()), timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Memberdesk cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert "Traceback" not in result.stderr


def app_root():
    from admin_app import ROOT
    return ROOT


def test_demo_fills_an_empty_database_and_prints_a_working_login(app, client):
    result = app.test_cli_runner().invoke(args=["demo", "--no-run"])
    assert result.exit_code == 0, result.output
    email, password = re.search(r"Log in as (\S+) with password (\S+)",
                                              result.output).groups()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 300
    # nothing is served with --no-run: no URL is printed, how to serve it is (issue 21 item 16)
    assert "http://" not in result.output and "nothing is served" in result.output
    assert "--port" in result.output
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert "$" in client.get("/admin/customer/").get_data(as_text=True)



def test_commands_do_not_print_alembics_info_lines(tmp_path):
    """A command on a new SQLite database brings it up to date without Alembic's INFO lines
    (issue 21 item 16); `flask db upgrade` is where migrations speak."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "SECRET_KEY": "x",
           "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "recompute-ltv", "--dry-run"]
    result = subprocess.run(command, capture_output=True, text=True, env=env,
                            cwd=str(app_root()), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Running upgrade" not in result.stdout + result.stderr
    assert "INFO" not in result.stdout + result.stderr
    # the database was brought up to date all the same
    import sqlite3
    with sqlite3.connect(tmp_path / "fresh.db") as conn:
        assert conn.execute("select count(*) from alembic_version").fetchone() == (1,)
