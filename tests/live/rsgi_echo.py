"""A Flask app that answers with what it was given, served through ``RSGIBridge``.

``python -m granian --interface rsgi --factory tests.live.rsgi_echo:create`` runs it
for ``tests/live/test_rsgi_bridge.py``: a 1 KiB body limit and a 1 s body deadline,
so the limits show quickly.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, jsonify, request

from app.cli.granian_rsgi import RSGIBridge

MAX_BODY = 1024
BODY_TIMEOUT = 1.0
SLOW_SECONDS = 1.0

echo = Flask(__name__)
echo.config["MAX_CONTENT_LENGTH"] = MAX_BODY


@echo.route("/<path:anything>", methods=["GET", "POST"])
@echo.route("/", methods=["GET", "POST"])
def environ(anything: str = ""):
    env = request.environ
    return jsonify(
        environ={k: v for k, v in env.items() if isinstance(v, str)},
        body=request.get_data(as_text=True),
        thread=threading.current_thread().name,
    )


@echo.post("/raw")
def raw():
    """What the bridge handed over, read straight from ``wsgi.input``."""
    return jsonify(length=len(request.environ["wsgi.input"].read()))


@echo.post("/slow")
def slow():
    time.sleep(SLOW_SECONDS)
    return jsonify(thread=threading.current_thread().name)


def create() -> RSGIBridge:
    return RSGIBridge(echo, MAX_BODY, threads=2, body_timeout=BODY_TIMEOUT)
