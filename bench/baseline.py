"""The baselines: a bare Flask app with one POST endpoint returning a small JSON body, and
the same app's ``POST /sign``, which also makes one RS256 signature.

Served by the same server, with the same settings, as the Gatehouse it is
compared with (``bench/kinds.py``), they are the yardsticks of the harness.
``POST /`` deliberately does no work (it does not even parse the form body it is
sent). ``POST /sign`` adds exactly one RSA-2048 PKCS#1 v1.5 SHA-256 signature over
a token-sized input (``bench.signature``), with a key made once at start-up: the
least a token server built on Flask can cost on that server, measured in the same
rounds as Gatehouse's own ``/token``.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, jsonify

from app.cli.granian_rsgi import RSGIBridge
from bench.signature import SIGNING_INPUT

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # as Gatehouse's

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PADDING, _DIGEST = padding.PKCS1v15(), hashes.SHA256()


@app.post("/")
def root():
    return jsonify(ok=True)


@app.post("/sign")
def sign():
    _KEY.sign(SIGNING_INPUT, _PADDING, _DIGEST)
    return jsonify(ok=True)


def rsgi_app() -> RSGIBridge:
    """The same app behind the bridge Gatehouse is served through (Granian's ``--factory``),
    its routes run on the event loop as ``/token`` is."""
    from app.cli.granian_server import bridge

    return bridge(app, inline=frozenset({"/", "/sign"}))
