"""The baseline: a bare Flask app with one POST endpoint returning a small JSON body.

Served by gunicorn with exactly the settings ``gatehouse serve`` uses, it is
the denominator of every ratio the harness reports. It deliberately does no
work (it does not even parse the form body it is sent).
"""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/")
def root():
    return jsonify(ok=True)
