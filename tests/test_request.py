"""The lean form parser of ``app.request`` reads every body exactly as werkzeug does."""

from __future__ import annotations

import pytest
from flask import Flask, Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from app.request import FORM, GatehouseRequest

BODIES = [
    b"",
    b"grant_type=client_credentials",
    b"grant_type=client_credentials&scope=jobs+candidates",
    b"scope=jobs%20candidates&scope=%2B&resource=https%3A%2F%2Fapi.example%2F",
    b"a=&b&=c&&d=1=2",
    b"token=%ff%fe&x=%zz&y=%",
    b"grant_type=client_credentials\xff\xfe",  # not UTF-8: an empty form, as in werkzeug
    b"name=%3Cscript%3E&sql=%27%20OR%201%3D1",
    b"k=" + b"v" * 60_000,
]


def _form(cls: type[Request], body: bytes, content_type: str = FORM):
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    environ = EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()
    with app.app_context():
        request = cls(environ)
        return list(request.form.items(multi=True)), request.files.to_dict()


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_same_parameters_as_werkzeug(body):
    assert _form(GatehouseRequest, body) == _form(Request, body)


def test_other_content_types_take_werkzeugs_path():
    body = b"grant_type=client_credentials"
    assert _form(GatehouseRequest, body, f"{FORM}; charset=UTF-8") == (
        [("grant_type", "client_credentials")],
        {},
    )
    assert _form(GatehouseRequest, body, "application/json") == ([], {})


def test_an_oversized_body_is_refused_before_it_is_read():
    with pytest.raises(RequestEntityTooLarge):
        _form(GatehouseRequest, b"k=" + b"v" * (64 * 1024))


def test_absent_parameters_default_without_error():
    environ = EnvironBuilder(method="POST", data=b"a=1", content_type=FORM).get_environ()
    with Flask(__name__).app_context():
        params = GatehouseRequest(environ).form
    assert params.get("a") == "1" and params.get("a", type=int) == 1
    assert params.get("b") is None and params.get("b", "x") == "x"


# -- a body over the limit is refused however its length is conveyed ----------------------
LIMIT = 64 * 1024


def _chunked(body: bytes, content_type: str) -> Request:
    """A request whose length is not declared (``Transfer-Encoding: chunked``): the server
    decodes the chunks and says the stream ends by itself (``wsgi.input_terminated``)."""
    environ = EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    return GatehouseRequest(environ)


READERS = {
    "lean-form": (FORM, lambda request: request.form),
    "werkzeug-form": (f"{FORM}; charset=UTF-8", lambda request: request.form),
    "multipart": ("multipart/form-data; boundary=x", lambda request: request.form),
    "json": ("application/json", lambda request: request.get_json(silent=True)),
    "raw": ("application/octet-stream", lambda request: request.get_data()),
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("size", [LIMIT + 1, 70_000, 5 * 1024 * 1024])
def test_a_chunked_body_over_the_limit_is_413_not_cut(reader, size):
    content_type, read = READERS[reader]
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    body = b"grant_type=client_credentials&scope=" + b"j" * (size - 36)
    assert len(body) == size
    with app.app_context(), pytest.raises(RequestEntityTooLarge):
        read(_chunked(body, content_type))


def test_a_chunked_body_at_the_limit_is_read_whole():
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    body = b"grant_type=client_credentials&pad=" + b"p" * (LIMIT - 34)
    assert len(body) == LIMIT
    with app.app_context():
        form = _chunked(body, FORM).form
        assert form["grant_type"] == "client_credentials" and len(form["pad"]) == LIMIT - 34
        assert _chunked(body, "application/octet-stream").get_data() == body
