"""The generate wizard, secret rotation, and the page that shows a new secret once."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask_login import login_required

from app.console import reveal
from app.console.access import actor
from app.console.blueprint import bp
from app.console.errors import attach
from app.console.forms import GenerateForm, RotateForm, split_networks
from app.console.pickers import choices, owner_choices, service_options
from app.errors import DomainError
from app.services import client_queries, clients, days
from app.services.actors import Actor
from app.services.runtime import settings

DEFAULT_DAYS = 90


def _expiry_bounds() -> tuple[str, str, str]:
    """(earliest, default, latest) expiry dates: today to the furthest
    ``GATEHOUSE_MAX_CLIENT_DAYS`` allow."""
    first = days.today()
    last = first + timedelta(days=settings().max_client_days)
    default = min(first + timedelta(days=DEFAULT_DAYS), last)
    return first.isoformat(), default.isoformat(), last.isoformat()


def _generate_form(who: Actor) -> GenerateForm:
    _, default, _ = _expiry_bounds()
    form = GenerateForm(data={"expires_on": default})
    form.services.choices = choices(service_options(who))
    if who.is_admin:
        form.owner.choices = owner_choices()
        if not form.is_submitted():
            form.owner.data = request.args.get("owner") or who.label
    else:
        del form.owner
    return form


@bp.route("/tokens/new", methods=["GET", "POST"])
@login_required
def generate():
    """Owner (admins), name, description, expiry, services; on success the secret, once."""
    who = actor()
    form = _generate_form(who)
    status = 200 if not form.is_submitted() else 400
    if form.validate_on_submit():
        try:
            issued = clients.create_client(
                who,
                name=form.name.data or "",
                description=form.description.data or "",
                expires_on=form.expires_on.data or "",
                scopes=form.services.data or [],
                owner_email=form.owner.data if "owner" in form else None,
                jwks=(form.jwks.data or "").strip() or None,
                allowed_networks=split_networks(form.allowed_networks.data),
            )
        except DomainError as err:
            status = attach(form, err)
        else:
            reveal.keep(
                issued.client.client_id, issued.secret, rotated=False, previous_valid_until=None
            )
            return redirect(url_for("console.secret", client_id=issued.client.client_id), 303)
    return render_template(
        "console/tokens/new.html",
        form=form,
        options=service_options(who),
        max_days=settings().max_client_days,
        latest=_expiry_bounds()[2],
        max_active=settings().max_active_clients,
    ), status


@bp.route("/tokens/<client_id>/rotate", methods=["GET", "POST"])
@login_required
def rotate(client_id: str):
    """Choose a grace period, then get a new secret (shown once)."""
    who = actor()
    client = client_queries.find_client(who, client_id)
    form = RotateForm()
    status = 200 if not form.is_submitted() else 400
    if form.validate_on_submit():
        try:
            issued = clients.rotate_secret(who, client_id, form.grace_seconds.data or 0)
        except DomainError as err:
            status = attach(form, err)
        else:
            reveal.keep(
                client_id,
                issued.secret,
                rotated=True,
                previous_valid_until=issued.previous_valid_until,
            )
            return redirect(url_for("console.secret", client_id=client_id), 303)
    return render_template("console/tokens/rotate.html", client=client, form=form), status


@bp.get("/tokens/<client_id>/secret")
@login_required
def secret(client_id: str):
    """The new secret, rendered once: a reload or the back button finds it gone (410). A key
    client's page says it has no secret, and how to configure the integration."""
    client = client_queries.find_client(actor(), client_id)
    shown = reveal.take(client_id)
    return render_template(
        "console/tokens/secret.html", client=client, shown=shown, issuer=settings().issuer
    ), 200 if shown else 410
