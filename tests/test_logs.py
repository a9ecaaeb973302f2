"""Log lines never carry a value a client put in a URL: ``redact_target`` and ``redact_query``."""

from __future__ import annotations

import pytest

from app.logs import redact_target

SECRET = "gts_" + "a" * 43 + "b" * 6

CASES = [
    ("/token", "/token"),
    ("/token?", "/token?"),
    (f"/token?client_secret={SECRET}", "/token?client_secret=REDACTED"),
    (
        f"/token?client_id=abc&client_secret={SECRET}",
        "/token?client_id=REDACTED&client_secret=REDACTED",
    ),
    (f"/revocations?{SECRET}", "/revocations?REDACTED"),
    ("/login?hunter2", "/login?REDACTED"),
    (f"/x?{'n' * 41}=1", "/x?REDACTED"),
    (f"/x?%63lient_secret={SECRET}", "/x?REDACTED"),
    ("/audit?page=2&&actor=", "/audit?page=REDACTED&actor=REDACTED"),
    (f"https://app.example/cb?code={SECRET}#frag", "https://app.example/cb?code=REDACTED"),
    (f"/x#{SECRET}", "/x"),
    ("-", "-"),
]


@pytest.mark.parametrize("target, logged", CASES)
def test_query_values_are_redacted_names_kept(target, logged):
    assert redact_target(target) == logged
    assert SECRET not in redact_target(target)
