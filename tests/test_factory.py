"""``create_app``'s app class: Flask's answers, with its per-call coroutine check done once
per function."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.views import View


def test_a_plain_view_is_checked_once(app: Flask) -> None:
    def view() -> str:
        return "ok"

    assert app.ensure_sync(view) is view
    assert app.ensure_sync(view) is view
    assert app._is_async[view] is False


def test_an_async_view_gets_flasks_own_answer(app: Flask) -> None:
    async def view() -> str:
        return "ok"

    try:
        expected = Flask.ensure_sync(app, view)
    except RuntimeError as exc:  # without the async extra, Flask refuses it: so do we
        with pytest.raises(RuntimeError, match=str(exc)[:30]):
            app.ensure_sync(view)
    else:
        assert callable(expected) and app.ensure_sync(view) is not view


def test_class_based_views_do_not_grow_the_memory(app: Flask) -> None:
    class Hello(View):
        def dispatch_request(self) -> str:
            return "hello"

    app.add_url_rule("/hello-from-a-class", view_func=Hello.as_view("hello_from_a_class"))

    def call() -> str:
        # inside the app, past the metrics middleware: no other test sees this route counted
        with app.test_request_context("/hello-from-a-class"):
            return app.full_dispatch_request().get_data(as_text=True)

    call()
    before = len(app._is_async)
    for _ in range(50):
        assert call() == "hello"
    # a new bound method each request, remembered once by the function it binds
    assert len(app._is_async) == before
    assert app._is_async[Hello.dispatch_request] is False


def test_a_bound_async_method_gets_flasks_own_answer(app: Flask) -> None:
    class Hooks:
        async def hook(self) -> None:
            return None

    method = Hooks().hook
    try:
        expected = Flask.ensure_sync(app, method)
    except RuntimeError as exc:
        with pytest.raises(RuntimeError, match=str(exc)[:30]):
            app.ensure_sync(method)
    else:
        assert callable(expected) and app.ensure_sync(method) is not method
