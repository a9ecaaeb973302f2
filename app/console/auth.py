"""Sign in and sign out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.console.access import SessionUser, safe_next
from app.console.blueprint import bp
from app.console.forms import LoginForm
from app.http_policy import client_address
from app.services import users
from app.services.runtime import runtime

FAILED = "The email or password is not right."


def _locked_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return (
        "Too many failed sign-ins for this account from your address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; the session cookie is reissued on success (no fixation)."""
    if current_user.is_authenticated:
        return redirect(url_for("console.tokens"))
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        email = users.normalise_email(form.email.data or "")
        address = client_address()
        key = f"{email}|{address}"
        wait = runtime().login_failures.retry_after(key)
        user = None if wait else users.authenticate(email, form.password.data or "")
        if wait:
            form.form_errors.append(_locked_message(wait))
            status, headers = 429, {"Retry-After": str(wait)}
        elif user is None:
            runtime().login_failures.record_failure(key)
            form.form_errors.append(FAILED)
            status = 401
        else:
            runtime().login_failures.forget(key)
            session.clear()
            login_user(SessionUser(user))
            session.permanent = True
            return redirect(safe_next(request.args.get("next")) or url_for("console.tokens"))
    elif form.is_submitted():
        status = 400
    return render_template("console/login.html", form=form), status, headers


@bp.post("/logout")
@login_required
def logout():
    """Sign out (a POST with the CSRF token, so another site cannot sign you out)."""
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("console.login"))
