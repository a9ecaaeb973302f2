"""Users (administrators only): list and add."""

from __future__ import annotations

from app.api.blueprint import api
from app.api.replies import UserOut, UserPage, page_of, user_out
from app.api.schemas import PageQuery, UserCreate
from app.services import users
from app.services.actors import Actor


@api.operation("GET", "/users", tag="users", query=PageQuery, result=UserPage)
def list_users(caller: Actor, query: PageQuery) -> UserPage:
    """Every user, by email (administrators only)"""
    page = users.page_users(caller, page=query.page, per_page=query.per_page)
    return page_of(UserPage, page, user_out)


@api.operation(
    "POST", "/users", tag="users", status=201, body=UserCreate, result=UserOut, errors=(409,)
)
def create_user(caller: Actor, body: UserCreate) -> UserOut:
    """Add a member or an administrator (administrators only)

    Emails are unique ignoring case (409). The password, when given, is never shown again.
    """
    user = users.create_user(
        caller,
        body.email,
        body.name,
        role=body.role,
        services=list(body.services),
        password=body.password,
    )
    return user_out(user)
