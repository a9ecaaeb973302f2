"""Pages of query results for the screens and API lists (tokens, users, audit events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from app.extensions import db

T = TypeVar("T")
PER_PAGE_MAX = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and where it sits in the whole."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Select[Any], page: int, per_page: int, clamp: bool = True) -> Page[Any]:
    """Run ``query`` for one page; a page past the end gives the last page, or with
    ``clamp=False`` (the API, where a script reads pages until one is empty) no items."""
    per_page = min(max(1, per_page), PER_PAGE_MAX)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    last = max(1, -(-(total or 0) // per_page))
    page = min(max(1, page), last) if clamp else max(1, page)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total or 0)
