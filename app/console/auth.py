"""Sign in and sign out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.console.access import begin_session, end_session, safe_next
from app.console.blueprint import bp
from app.console.forms import LoginForm
from app.http_policy import client_address
from app.models import User
from app.services import sign_ins

FAILED = "The email or password is not right."


def _refusal_message(refusal: sign_ins.SignInRefused) -> str:
    if refusal.reason == "busy":
        return "Too many sign-ins are being checked right now. Try again in a moment."
    minutes = max(1, -(-refusal.retry_after // 60))
    whom = "this account from your address" if refusal.reason == "account" else "your address"
    return (
        f"Too many failed sign-ins for {whom}. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; the session cookie is reissued on success (no fixation)."""
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        address = client_address()
        try:
            user = sign_ins.sign_in(form.email.data or "", form.password.data or "", address)
        except sign_ins.SignInRefused as refusal:
            form.form_errors.append(_refusal_message(refusal))
            status, headers = refusal.status, {"Retry-After": str(refusal.retry_after)}
        else:
            if user is not None:
                return _signed_in(user)
            form.form_errors.append(FAILED)
            status = 401
    elif form.is_submitted():
        status = 400
    return render_template("console/login.html", form=form), status, headers


def _signed_in(user: User):
    """A fresh session for ``user`` (no fixation), then the page they asked for."""
    begin_session(user)
    return redirect(safe_next(request.args.get("next")) or url_for("console.home"))


@bp.post("/logout")
@login_required
def logout():
    """Sign out (a POST with the CSRF token, so another site cannot sign you out)."""
    end_session()
    flash("You are signed out.", "info")
    return redirect(url_for("console.login"))
