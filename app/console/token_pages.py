"""The token list, a token's page, editing, replacing a key client's keys, and revoking."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.console.access import actor
from app.console.blueprint import bp
from app.console.errors import attach
from app.console.forms import KeysForm, RotateForm, TokenDetailsForm, split_networks
from app.console.pickers import choices, service_names, service_options
from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.models import Client
from app.security.client_keys import key_ids
from app.services import client_credentials, client_queries, clients, outbox_delivery, users

PER_PAGE = 20
TABS = ("active", "inactive")


@bp.get("/tokens")
@login_required
def tokens():
    """Active or inactive tokens the person may see, searchable; admins filter by owner."""
    who = actor()
    status = request.args.get("status", "active")
    status = status if status in TABS else "active"
    q = request.args.get("q", "").strip()
    owner = request.args.get("owner", "").strip() if who.is_admin else ""
    page, error = None, None
    try:
        page = client_queries.page_clients(
            who,
            owner=owner or None,
            status=status,
            q=q or None,
            page=request.args.get("page", 1, type=int),
            per_page=PER_PAGE,
        )
    except DomainError as err:
        error = err.message
    return render_template(
        "console/tokens/list.html",
        page=page,
        error=error,
        status=status,
        q=q,
        owner=owner,
        owners=users.list_users() if who.is_admin else [],
        names=service_names(),
    )


def _details_form(client: Client, formdata: bool = False) -> TokenDetailsForm:
    form = TokenDetailsForm(
        formdata=None if not formdata else request.form,
        data={
            "name": client.name,
            "description": client.description,
            "services": client.scopes,
            "allowed_networks": ", ".join(client.networks),
        },
    )
    form.services.choices = choices(service_options(actor(), client.scopes))
    return form


def render_token(
    client: Client,
    form: TokenDetailsForm | None = None,
    status: int = 200,
    keys_form: KeysForm | None = None,
):
    """A token's page: details, the edit form, new keys (key clients), links to rotate and
    revoke."""
    form = form or _details_form(client)
    return render_template(
        "console/tokens/show.html",
        client=client,
        form=form,
        keys_form=keys_form or KeysForm(formdata=None),
        key_ids=key_ids(client.jwks) if client.jwks is not None else [],
        options=service_options(actor(), client.scopes),
        names=service_names(),
        rotate_form=RotateForm(),
        notifications=outbox_delivery.list_messages(client_id=client.client_id, limit=20),
    ), status


@bp.get("/tokens/<client_id>")
@login_required
def token(client_id: str):
    """One token (404 when it is not the person's to see)."""
    return render_token(client_queries.find_client(actor(), client_id))


@bp.post("/tokens/<client_id>")
@login_required
def edit_token(client_id: str):
    """Save name, description and services; scopes are sent only when they changed."""
    who = actor()
    client = client_queries.find_client(who, client_id)
    form = _details_form(client, formdata=True)
    status = 400
    if form.validate_on_submit():
        wanted = form.services.data or []
        try:
            clients.update_client(
                who,
                client_id,
                name=form.name.data or "",
                description=form.description.data or "",
                scopes=None if set(wanted) == set(client.scopes) else wanted,
                allowed_networks=split_networks(form.allowed_networks.data),
            )
        except (InvalidInput, Conflict, Forbidden) as err:
            status = attach(form, err)
        else:
            flash("Your changes are saved.", "success")
            return redirect(url_for("console.token", client_id=client_id))
    return render_token(client, form, status)


@bp.post("/tokens/<client_id>/keys")
@login_required
def replace_keys(client_id: str):
    """Replace a key client's public keys (audited and mailed like a rotation)."""
    who = actor()
    client = client_queries.find_client(who, client_id)
    form = KeysForm()
    status = 400
    if form.validate_on_submit():
        try:
            client_credentials.set_keys(who, client_id, form.jwks.data or "")
        except DomainError as err:
            status = attach(form, err)
        else:
            flash("The public keys are replaced: the previous ones no longer work.", "success")
            return redirect(url_for("console.token", client_id=client_id))
    return render_token(client, keys_form=form, status=status)


@bp.route("/tokens/<client_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_token(client_id: str):
    """Ask first; on POST revoke for good and show the token's page."""
    who = actor()
    client = client_queries.find_client(who, client_id)
    if request.method == "GET":
        return render_template("console/tokens/revoke.html", client=client)
    _, already = clients.revoke_client(who, client_id)
    flash(
        "This token was already revoked." if already else "The token is revoked.",
        "info" if already else "success",
    )
    return redirect(url_for("console.token", client_id=client_id))
