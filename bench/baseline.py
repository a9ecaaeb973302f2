"""The baseline: a bare Flask app with one POST endpoint returning a small JSON body.

Served by the same server, with the same settings, as the Gatehouse it is
compared with (``bench/kinds.py``), it is the yardstick of the harness. It deliberately does no
work (it does not even parse the form body it is sent).
"""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/")
def root():
    return jsonify(ok=True)
