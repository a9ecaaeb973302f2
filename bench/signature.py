"""The CPU cost of one RS256 signature here: the floor of a ``/token`` request.

RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3) over the JWT's
signing input; with a 2048-bit key that signature is most of what a token
costs beyond the server's own per-request work. Measured in this process with
``cryptography`` (the library Gatehouse signs with), each signature timed on
the thread's CPU clock, over a signing input the size of a Gatehouse token.
"""

from __future__ import annotations

import statistics
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNING_INPUT = b"e" * 380  # base64url(header) "." base64url(claims) of a typical token


def rsa_sign_cpu_us(samples: int = 400, warmup: int = 20) -> float:
    """Median CPU microseconds of one RSA-2048 PKCS#1 v1.5 SHA-256 signature."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pad, digest = padding.PKCS1v15(), hashes.SHA256()
    for _ in range(warmup):
        key.sign(SIGNING_INPUT, pad, digest)
    costs = []
    for _ in range(samples):
        started = time.thread_time_ns()
        key.sign(SIGNING_INPUT, pad, digest)
        costs.append(time.thread_time_ns() - started)
    return statistics.median(costs) / 1000


if __name__ == "__main__":
    print(f"RSA-2048 PKCS#1 v1.5 SHA-256 signature: {rsa_sign_cpu_us():.0f} us CPU (median)")
