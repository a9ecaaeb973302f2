"""The baseline: a bare Flask app with one POST endpoint returning a small JSON body.

Served by the same server, with the same settings, as the Gatehouse it is
compared with (``bench/kinds.py``), it is the yardstick of the harness. It deliberately does no
work (it does not even parse the form body it is sent).
"""

from __future__ import annotations

from flask import Flask, jsonify

from app.cli.granian_rsgi import RSGIBridge

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # as Gatehouse's


@app.post("/")
def root():
    return jsonify(ok=True)


def rsgi_app() -> RSGIBridge:
    """The same app behind the bridge Gatehouse is served through (Granian's ``--factory``),
    its one route run on the event loop as ``/token`` is."""
    from app.cli.granian_server import bridge

    return bridge(app, inline=frozenset({"/"}))
