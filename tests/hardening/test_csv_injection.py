"""Issue 20, item 2: no export path writes a cell a spreadsheet would evaluate, however the
spreadsheet splits the file (',', ';' or tab as the separator).

Hostile text sits in every text field (written straight into the database, as an import or an
old row could hold it) and one name arrives by Stripe webhook (`<TAB>=1+1`). Each export path
(streamed, "for Excel", job file, command line) is parsed with each separator and every cell
is checked: none may start, after blanks, with = + - @ or their full-width forms ＝＋－＠,
unless it is plainly a number (a phone number or the lifetime value: a sign, then only
digits, spaces, dots, dashes and parentheses, which can call nothing)."""
import csv
import io
import re

import pytest
from sqlalchemy import select

from models import Customer, Job, db
from models.customer import DETAIL_FIELDS
from tests import factories
from tests.conftest import login
from tests.fakes import stripe_events as se
from tests.job_support import wait_for_job
from tests.webhook_helpers import hook_app, post_stripe, settle  # noqa: F401 (fixture)

EXPORT = "/admin/customer/export/csv/"
SEPARATORS = {",": "csv_comma", ";": "csv_semicolon", "\t": "csv_tab"}
TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
BLANKS = " \u00a0\u3000\n\r\t"
PLAIN_NUMBER = re.compile(r"[+-][0-9 .()-]*[0-9][0-9 .()-]*")
ATTACKS = [  # what the probe found live under ';' and tab, and neighbours of it
    "a;=1+1", "a; =1+1", "a;\t=1+1", "a\t=1+1", "\t=1+1", "=1+1", " =1+1", "a,=1+1",
    "a;+1+cmd|' /C calc'!A0", "a;-1+1", "a;@SUM(A1)", "a;\uff1d1+1", "\uff0b1+1",
    "a\t\uff20SUM(A1)", "x;\u00a0=1", "x;\u3000=1", "x;\n=1", "a;\"=1+1\"", "a\";=1+1",
    'a,b;"c;=1+1', "a;;=1", "a\t\t+1+1", "Smith; +1 555 0100 =1", "a;'=1", "a; '=1",
    "a;=1;=2\t=3,=4", "a\r=1+1", "=HYPERLINK(\"http://evil.example\")", "-", "a;-",
    # plain numbers: left alone inside a row, but the first cell starts the whole line, which
    # is one cell when read with ';' or tab ("-1,ada@example.com,...")
    "-1", "+1 555 0100",
]
TEXT_FIELDS = [name for name, _ in DETAIL_FIELDS if name not in ("email", "country")]


def live_cells(text, separator):
    """Cells of the CSV `text` read with `separator` that a spreadsheet would evaluate."""
    live = []
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""),
                           delimiter=separator))
    for row in rows:
        for cell in row:
            value = cell.lstrip(BLANKS)
            if value[:1] in TRIGGERS and value and \
                    not PLAIN_NUMBER.fullmatch(cell.strip(BLANKS)):
                live.append(cell)
    return live, sum(len(r) for r in rows)


def _hostile_customers():
    for n, attack in enumerate(ATTACKS):
        factories.customer(email=f"hostile{n}@example.com", country="DE",
                           lifetime_value_cents=-150 if n % 2 else 990,
                           **{field: attack[:getattr(Customer, field).type.length]
                              for field in TEXT_FIELDS})
    db.session.commit()


def _job_file(app, client):
    app.config["EXPORT_JOB_THRESHOLD"] = 3
    response = client.get(EXPORT)
    assert response.status_code == 302
    from admin_app import queue
    queue.backend().wait_idle(60)
    job = wait_for_job(db.session.scalar(select(Job.id).order_by(Job.id.desc())))
    assert job.state == "done"
    app.config["EXPORT_JOB_THRESHOLD"] = 10 ** 9
    return client.get(f"/admin/jobs/job/{job.id}/download").get_data(as_text=True)


def _cli(app, tmp_path, *args):
    target = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["export-customers", str(target), *args])
    assert result.exit_code == 0, result.output
    return target.read_text(encoding="utf-8")


def test_no_export_path_has_a_live_cell_under_any_separator(hook_app, client, tmp_path,
                                                            reliability):
    _hostile_customers()
    evt = se.event("customer.created", se.customer(email="tab@example.com", name="\t=1+1"))
    assert post_stripe(client, evt).status_code == 200
    settle()
    assert db.session.scalar(select(Customer).where(Customer.email == "tab@example.com"))
    login(client, "owner")
    hook_app.config["EXPORT_JOB_THRESHOLD"] = 10 ** 9
    files = {
        "streamed": client.get(EXPORT).get_data(as_text=True),
        "for Excel": client.get(EXPORT + "?bom=1").get_data(as_text=True),
        "command line": _cli(hook_app, tmp_path),
        "command line for Excel": _cli(hook_app, tmp_path, "--bom"),
        "job file": _job_file(hook_app, client),
    }
    found = {}
    for path, text in files.items():
        assert text.count("\n") >= len(ATTACKS) + 1, path
        for separator, area in SEPARATORS.items():
            live, cells = live_cells(text, separator)
            found[(path, separator)] = live
            reliability.count(area, cells)
    assert {key: live for key, live in found.items() if live} == {}


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_is_harmless_in_a_cell(attack):
    from actions.export import neutralise
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["x", neutralise(attack), "y"])
    for separator in SEPARATORS:
        assert live_cells(buffer.getvalue(), separator)[0] == [], (attack, separator)
