"""The OpenAPI 3.1 document at ``/api/v1/openapi.json`` and its page for people.

Valid under openapi-spec-validator, every route of the API described with every status
it can answer, only JSON Schema keywords (a pydantic-only one would be silently
unenforced by a document's reader), every ``$ref`` resolving, pages described.
"""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

PYDANTIC_ONLY = {"ge", "gt", "le", "lt", "min_length", "max_length", "multiple_of", "strict"}
LISTS = ["/api/v1/clients", "/api/v1/services", "/api/v1/users", "/api/v1/audit-events"]


@pytest.fixture
def doc(http) -> dict:
    response = http.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_it_describes_every_route_of_the_api(app, doc):
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert routes == described


def test_schemas_use_only_json_schema_keywords(doc):
    bad = [
        f"{p}/{k}" for p, k, _ in walk(doc) if k in PYDANTIC_ONLY and not p.endswith("properties")
    ]
    assert bad == []


def test_every_ref_points_into_the_components(doc):
    names = set(doc["components"]["schemas"])
    refs = {value for _, key, value in walk(doc) if key == "$ref"}
    assert refs and all(ref.startswith("#/components/schemas/") for ref in refs)
    assert {ref.rsplit("/", 1)[1] for ref in refs} <= names


def test_every_operation_documents_the_statuses_it_can_answer(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            if not op["security"]:
                continue
            assert op["security"] == [{"bearer": []}]
            assert {"401", "403", "503"} <= codes, (method, path)
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if any(p["in"] == "query" for p in op["parameters"]):
                assert "422" in codes, (method, path)


def test_errors_have_one_schema(doc):
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message", "fields"]
    for _, item in doc["paths"].items():
        for op in item.values():
            for code, response in op["responses"].items():
                if code >= "400":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("path", LISTS)
def test_lists_document_their_pages(doc, path):
    op = doc["paths"][path]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    assert params["page"]["minimum"] == 1 and params["page"]["default"] == 1
    assert params["per_page"]["maximum"] == 100 and params["per_page"]["default"] in (20, 50)
    result = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = doc["components"]["schemas"][result.rsplit("/", 1)[1]]
    assert {"items", "page", "per_page", "total", "next_page"} <= set(page["properties"])


def test_no_schema_has_room_for_a_secret_hash(doc):
    assert not [k for _, k, _ in walk(doc["components"]) if "hash" in str(k).lower()]


def test_the_reference_page_lists_every_operation_without_script(http, doc):
    response = http.get("/api/v1/reference")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for item in doc["paths"].values():
        for op in item.values():
            assert f'id="{op["operationId"]}"' in html
    assert "<script" not in html and "style=" not in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert re.findall(r'(?:href|src)="(https?:)?//', html) == []
