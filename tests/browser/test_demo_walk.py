"""The guide on the demo as the README starts it (`flask --app wsgi demo`), in Chromium: every
step that moves money or sends mail has a visible effect through the sandbox, and moving the
sandbox's clock ends access on Stripe and PayPal and charges a renewal."""
import os
import re
import sqlite3
import subprocess
import threading
import sys
from datetime import datetime, timezone

import pytest
import requests

from tests.fakes.loopback import stop
from tests.integration.test_demo_sandbox import ROOT, _free_port

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]
MODAL = "#fa_modal_window"


@pytest.fixture
def demo(tmp_path):
    env = {**os.environ, "MEMBERDESK_INSTANCE_PATH": str(tmp_path),
           "PYTHONUNBUFFERED": "1"}
    for key in ("DATABASE_URL", "STRIPE_API_KEY", "PAYPAL_CLIENT_ID", "MAIL_OUTBOX"):
        env.pop(key, None)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--port", str(port),
         "--customers", "120"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        for line in process.stdout:
            out.append(line)
            if "Running on" in line or "Press CTRL+C" in line:
                break
        text = "".join(out)
        # keep reading its log, or the pipe fills and the demo stops answering
        threading.Thread(target=out.extend, args=(process.stdout,), daemon=True).start()
        email, password = re.search(r"Log in as (\S+) with password (\S+)", text).groups()
        url = f"http://127.0.0.1:{port}"
        assert requests.get(f"{url}/login", timeout=10).status_code == 200
        yield {"url": url, "email": email, "password": password,
               "db": tmp_path / "memberdesk.db"}
    finally:
        stop(process, 10)


def _one(db, sql):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchone()


def _profile(page, email):
    page.goto(f"/admin/customer/?search={email}")
    page.locator("table.model-list tbody tr", has_text=email).get_by_role(
        "link", name="Profile").click()
    modal = page.locator(MODAL)
    expect(modal.locator("#md-profile")).to_be_visible()
    return modal


def _money(text):
    return round(float(re.sub(r"[^\d.\-]", "", text)) * 100)


def _sub_action(page, email, sub_id, action):
    modal = _profile(page, email)
    modal.get_by_role("tab", name=re.compile("Subscriptions")).click()
    modal.locator(f"tr[data-subscription-id='{sub_id}'] a[data-action={action}]").click()
    expect(modal.locator("#md-action-form")).to_be_visible()
    return modal


def _save(page, modal, button, flash):
    # A saved action answers with a redirect that the pop-up's script follows: wait for that
    # page, not for text that the form itself may already show (a preview of the new price),
    # or the next step's navigation races it (net::ERR_ABORTED).
    with page.expect_navigation():
        modal.get_by_role("button", name=button).click()
    expect(page.locator(".alert-success, .alert-info").first).to_contain_text(flash)


def _status(page, email, sub_id):
    modal = _profile(page, email)
    modal.get_by_role("tab", name=re.compile("Subscriptions")).click()
    return modal.locator(f"tr[data-subscription-id='{sub_id}'] .md-sub-status")


def test_the_guide_on_the_demo_with_its_sandbox(browser, demo):
    db = demo["db"]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    live = (f"s.status = 'active' AND NOT s.cancel_at_period_end AND NOT s.paused AND "
            f"s.current_period_end > '{now}' AND s.currency = 'USD'")
    # a Stripe payment in the store currency, nothing refunded
    tx_id, email, amount = _one(db, """
        SELECT t.id, c.email, t.amount_cents FROM "transaction" t JOIN customer c
        ON c.id = t.customer_id WHERE t.gateway = 'stripe' AND t.status = 'succeeded'
        AND t.currency = 'USD' AND t.refunded_cents = 0 AND t.amount_cents >= 2000
        AND t.invoice_number IS NOT NULL ORDER BY t.id LIMIT 1""")
    stripe_sub, stripe_email, stripe_end = _one(db, f"""
        SELECT s.id, c.email, s.current_period_end FROM subscription s JOIN customer c
        ON c.id = s.customer_id WHERE s.gateway = 'stripe' AND {live}
        ORDER BY s.current_period_end LIMIT 1""")
    renewing, renewing_email, renewing_customer = _one(db, f"""
        SELECT s.id, c.email, c.id FROM subscription s JOIN customer c ON c.id = s.customer_id
        WHERE s.gateway = 'stripe' AND {live} AND s.id != {stripe_sub}
        AND s.interval = 'month' ORDER BY s.current_period_end LIMIT 1""")
    paypal_sub, paypal_email, paypal_end = _one(db, f"""
        SELECT s.id, c.email, s.current_period_end FROM subscription s JOIN customer c
        ON c.id = s.customer_id WHERE s.gateway = 'paypal' AND {live}
        ORDER BY s.current_period_end LIMIT 1""")

    context = browser.new_context(base_url=demo["url"], viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(demo["email"])
    page.get_by_label("Password").fill(demo["password"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")  # Home: the demo data gives it figures
    expect(page.locator("#md-mrr-now")).not_to_have_text(re.compile(r"^\s*\$0\.00\s*$"))
    expect(page.locator("#md-bridge-chart rect.md-bar").first).to_be_visible()
    expect(page.locator("#md-sandbox-banner")).to_contain_text("Sandbox — no real money moves")

    # Refund: the lifetime value drops by exactly the refund
    modal = _profile(page, email)
    ltv_before = _money(modal.locator("#md-ltv").inner_text())
    modal.locator(f"tr[data-transaction-id='{tx_id}'] a[data-action=refund]").click()
    modal.locator("[name=amount]").fill("10.00")
    modal.get_by_role("button", name="Refund", exact=True).click()
    expect(modal.locator(".md-outcome")).to_contain_text("Refunded $10.00 through Stripe.")
    expect(modal.locator("#md-ltv")).not_to_have_text(re.compile(r"^\s*$"))
    assert _money(modal.locator("#md-ltv").inner_text()) == ltv_before - 1000

    # Invoice re-send: the e-mail with its PDF waits in the Outbox
    modal.locator(f"tr[data-transaction-id='{tx_id}'] a[data-action=invoice]").click()
    modal.locator("#md-action-form button[type=submit]").click()
    expect(page.locator(".alert-success, .md-outcome").first).to_contain_text("was sent to")
    page.goto("/admin/outbox/")
    expect(page.locator("#md-outbox .md-mail").first).to_contain_text(email)
    expect(page.locator("#md-outbox .md-attachment").first).to_contain_text(".pdf")

    # Edit Sale: another affiliate for the payment
    affiliate = _one(db, "SELECT id, name FROM affiliate ORDER BY id LIMIT 1")
    modal = _profile(page, email)
    modal.locator(f"tr[data-transaction-id='{tx_id}'] a[data-action=affiliate]").click()
    expect(modal.locator("#md-action-form")).to_be_visible()
    modal.locator("select[name=affiliate]").select_option(str(affiliate[0]), force=True)
    modal.locator("#md-action-form button[type=submit]").click()
    expect(modal.locator(f"tr[data-transaction-id='{tx_id}']")).to_contain_text(affiliate[1])

    # Upgrade/downgrade on Stripe, edit affiliate on PayPal
    modal = _sub_action(page, stripe_email, stripe_sub, "subscription_plan")
    options = modal.locator("select[name=plan] option")
    chosen = next(o for o in options.all() if o.get_attribute("value")
                  and o.get_attribute("selected") is None)
    plan_name = chosen.inner_text().split(" (")[0].split(" — ")[0].strip()
    modal.locator("select[name=plan]").select_option(chosen.get_attribute("value"))
    _save(page, modal, "Save", "now on")
    assert plan_name
    modal = _sub_action(page, paypal_email, paypal_sub, "subscription_affiliate")
    modal.locator("select[name=affiliate]").select_option(str(affiliate[0]), force=True)
    _save(page, modal, "Save", f"now credit {affiliate[1]}")

    # Edit price, then cancel at the period end, on Stripe; cancel on PayPal
    modal = _sub_action(page, renewing_email, renewing, "subscription_price")
    modal.locator("[name=amount]").fill("77.00")
    _save(page, modal, "Save", "$77.00")
    # until its renewal the total is what it costs today, the new price beside it (item 4)
    row = _status(page, renewing_email, renewing).locator("xpath=ancestor::tr")
    expect(row.locator(".md-price-next")).to_contain_text("→ $77.00 from ")
    modal = _sub_action(page, stripe_email, stripe_sub, "subscription_cancel")
    _save(page, modal, "Cancel subscription", "cancels on")
    modal = _sub_action(page, paypal_email, paypal_sub, "subscription_cancel")
    _save(page, modal, "Cancel subscription", "keeps access until")
    expect(_status(page, stripe_email, stripe_sub)).to_contain_text("Cancelled — access until")
    expect(_status(page, paypal_email, paypal_sub)).to_contain_text("Cancelled — access until")

    # Move the sandbox's clock past both period ends (and the renewing one's)
    last = max(datetime.fromisoformat(end[:19]) for end in (stripe_end, paypal_end))
    days = (last - datetime.now()).days + 2
    payments_before = _one(db, f'SELECT count(*) FROM "transaction" WHERE customer_id = '
                               f'{renewing_customer}')[0]
    ltv_renewing = _money(_profile(page, renewing_email).locator("#md-ltv").inner_text())
    page.goto("/admin/sandbox/")
    page.locator("#md-days").fill(str(max(days, 32)))
    page.get_by_role("button", name="Advance clock").click()
    expect(page.locator(".alert-success").first).to_contain_text("The sandbox clock moved")

    expect(_status(page, stripe_email, stripe_sub)).to_have_text("Cancelled")
    expect(_status(page, paypal_email, paypal_sub)).to_have_text("Cancelled")
    # the renewal: a new payment at the new price, counted in the lifetime value
    row = _status(page, renewing_email, renewing).locator("xpath=ancestor::tr")
    expect(row.locator(".md-price-next")).to_have_count(0)  # the webhook of the renewal
    expect(row).to_contain_text("$77.00")
    modal = _profile(page, renewing_email)
    expect(modal.locator("tr[data-transaction-id]").first).to_contain_text("$77.00")
    payments_after = _one(db, f'SELECT count(*) FROM "transaction" WHERE customer_id = '
                              f'{renewing_customer}')[0]
    assert payments_after > payments_before
    assert _money(modal.locator("#md-ltv").inner_text()) >= ltv_renewing + 7700
    context.close()
