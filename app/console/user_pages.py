"""Users (administrators only): list, add, set a password, deactivate."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.console.access import actor, admin_required
from app.console.blueprint import bp
from app.console.errors import attach
from app.console.forms import PasswordForm, UserForm
from app.console.pickers import catalogue_options, choices
from app.errors import DomainError
from app.models import User
from app.services import client_queries, offboarding, users


@bp.get("/users")
@admin_required
def people():
    """Every user with role, services and whether they may sign in."""
    return render_template("console/users/list.html", people=users.list_users())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_person():
    """Add a member or an administrator."""
    form = UserForm()
    options = catalogue_options()
    form.services.choices = choices(options)
    status = 200 if not form.is_submitted() else 400
    if form.validate_on_submit():
        try:
            person = users.create_user(
                actor(),
                form.email.data or "",
                form.name.data or "",
                role=form.role.data or "member",
                services=form.services.data or [],
                password=form.password.data or None,
            )
        except DomainError as err:
            status = attach(form, err)
        else:
            flash(f"{person.name} can now sign in as {person.email}.", "success")
            return redirect(url_for("console.person", user_id=person.id))
    return render_template("console/users/new.html", form=form, options=options), status


def _active_tokens(person: User) -> int:
    return len(client_queries.list_clients(actor(), owner=person.email, status="active"))


@bp.get("/users/<int:user_id>")
@admin_required
def person(user_id: int):
    """A user's details, a form to set their password, and the way to deactivate them."""
    someone = users.get_by_id(user_id)
    return render_template(
        "console/users/show.html",
        person=someone,
        form=PasswordForm(),
        token_count=_active_tokens(someone),
    )


@bp.post("/users/<int:user_id>/password")
@admin_required
def set_password(user_id: int):
    someone = users.get_by_id(user_id)
    form = PasswordForm()
    status = 400
    if form.validate_on_submit():
        try:
            users.set_password(actor(), someone.email, form.password.data or "")
        except DomainError as err:
            status = attach(form, err)
        else:
            flash(f"The password of {someone.email} is set.", "success")
            return redirect(url_for("console.person", user_id=user_id))
    return render_template(
        "console/users/show.html",
        person=someone,
        form=form,
        token_count=_active_tokens(someone),
    ), status


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@admin_required
def deactivate(user_id: int):
    """Say how many tokens will be revoked; on POST deactivate and revoke them."""
    someone = users.get_by_id(user_id)
    count = _active_tokens(someone)
    error = None
    if request.method == "POST":
        try:
            _, revoked = offboarding.deactivate_user(actor(), someone.email)
        except DomainError as err:
            error = err.message
        else:
            flash(
                f"{someone.email} is deactivated; {revoked} token"
                f"{'' if revoked == 1 else 's'} revoked.",
                "success",
            )
            return redirect(url_for("console.person", user_id=user_id))
    return render_template(
        "console/users/deactivate.html",
        person=someone,
        count=count,
        error=error,
    ), 403 if error else 200
