"""The service catalogue: its keys are the scopes a client may be given."""

from __future__ import annotations

from app.api.blueprint import api
from app.api.replies import ServicePage, page_of, service_out
from app.api.schemas import ServicesQuery
from app.services import catalogue
from app.services.actors import Actor


@api.operation("GET", "/services", tag="services", query=ServicesQuery, result=ServicePage)
def list_services(caller: Actor, query: ServicesQuery) -> ServicePage:
    """The service catalogue, by name

    `q` matches the key or the name, ignoring case. The system scopes `introspect` and
    `manage` are not services: only administrators grant them.
    """
    page = catalogue.page_services(query.q, page=query.page, per_page=query.per_page)
    return page_of(ServicePage, page, service_out)
