"""The Sandbox page (owners, only while the gateways point at a sandbox, SANDBOX_URL): move
the sandbox's clock, make a renewal fail, open and decide disputes. It talks to the sandbox
only over its HTTP controls, as `flask sandbox` does."""
import requests
from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose

from actions.form_checks import plain_int
from admin_app.views.base import AccessMixin


def sandbox_url():
    return current_app.config.get("SANDBOX_URL") or None


def call(path, body=None, timeout=120):
    """POST (or GET without body) a sandbox control; (ok, JSON)."""
    if not sandbox_url():
        return False, {"error": "No sandbox here (SANDBOX_URL is empty); nothing was done."}
    url = f"{sandbox_url()}/_sandbox{path}"
    try:
        response = requests.post(url, json=body, timeout=timeout) if body is not None \
            else requests.get(url, timeout=10)
        return response.ok, response.json()
    except (requests.RequestException, ValueError) as exc:
        return False, {"error": f"the sandbox at {sandbox_url()} did not answer ({exc})"}


class SandboxView(AccessMixin, BaseView):
    permission = "manage_admins"

    def is_visible(self):
        return bool(sandbox_url())

    @expose("/")
    def index(self):
        if not sandbox_url():
            return self.render("memberdesk/sandbox.html", state=None, problem=(
                "The payment systems are not a sandbox here (SANDBOX_URL is empty): "
                "Stripe and PayPal are real, and their clock cannot be moved."))
        ok, state = call("/state")
        return self.render("memberdesk/sandbox.html", state=state if ok else None,
                           problem=None if ok else state.get("error"))

    @expose("/advance", methods=["POST"])
    def advance(self):
        days = plain_int(request.form.get("days", "")) or 0  # the one digit rule
        if not 0 < days <= 400:
            flash("Give a number of days between 1 and 400; the clock did not move.", "error")
            return redirect(url_for(".index"))
        ok, result = call("/advance", {"days": days})
        if ok:
            flash(f"The sandbox clock moved {days:g} day(s). " + (
                "; ".join(result["happened"]) or "Nothing fell due.")
                + ("" if result.get("webhooks_delivered") else
                   " (some webhooks are still on their way)"), "success")
        else:
            flash(result.get("error", "The sandbox refused."), "error")
        return redirect(url_for(".index"))

    @expose("/control/<what>", methods=["POST"])
    def control(self, what):
        ref = (request.form.get("ref") or "").strip()
        if what not in ("decline", "dispute", "decide") or not ref:
            flash("Give the reference of a subscription, payment or dispute.", "error")
            return redirect(url_for(".index"))
        body = {"ref": ref}
        if what == "decide":
            body["won"] = request.form.get("outcome") == "won"
        ok, result = call(f"/{what}", body)
        messages = {"decline": f"The next renewal of {ref} will be declined.",
                    "dispute": f"A dispute was opened on {ref}: "
                               f"{result.get('id') or result.get('dispute_id')}.",
                    "decide": f"Dispute {ref} was decided: "
                              f"{'won' if body.get('won') else 'lost'}."}
        flash(messages[what] if ok else result.get("error", "The sandbox refused."),
              "success" if ok else "error")
        return redirect(url_for(".index"))
