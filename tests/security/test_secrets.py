"""The secret format, its checksum, its randomness, and client ids."""

from __future__ import annotations

import re
import string
import zlib

import pytest

from app.security import secrets

ALPHABET = string.digits + string.ascii_letters
SECRET = re.compile(r"^gts_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$")


def base62(number: int, width: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number, 62)
        out = ALPHABET[rest] + out
    return out.rjust(width, "0")


def from_base62(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + ALPHABET.index(char)
    return value


@pytest.fixture(scope="module")
def many() -> list[str]:
    return [secrets.generate_secret() for _ in range(2000)]


def test_format(many):
    for secret in many:
        assert len(secret) == 4 + 43 + 6
        assert SECRET.match(secret), secret
        assert secrets.is_well_formed(secret)


def test_checksum_is_base62_crc32_of_what_precedes_it(many):
    for secret in many[:200]:
        body, check = secret[:-6], secret[-6:]
        assert check == base62(zlib.crc32(body.encode()), 6)


def test_a_changed_character_is_rejected():
    secret = secrets.generate_secret()
    for position in range(len(secret)):
        original = secret[position]
        for replacement in {ALPHABET[(ALPHABET.find(original) + 1) % 62], "-", "_"} - {original}:
            changed = secret[:position] + replacement + secret[position + 1 :]
            assert changed != secret
            assert not secrets.is_well_formed(changed), (position, replacement)


def test_swapped_neighbours_are_rejected():
    secret = secrets.generate_secret()
    for position in range(4, len(secret) - 7):
        a, b = secret[position], secret[position + 1]
        if a != b:
            swapped = secret[:position] + b + a + secret[position + 2 :]
            assert not secrets.is_well_formed(swapped)


@pytest.mark.parametrize(
    "bad",
    ["", "gts_", "gts_" + "a" * 49, "ghp_" + "a" * 49, "gts_" + "a" * 48, "gts_" + "a" * 50],
)
def test_malformed_values_are_rejected(bad):
    assert not secrets.is_well_formed(bad)


def test_a_good_secret_with_anything_around_or_in_it_is_rejected():
    """The shape is matched whole and in ASCII: no trailing newline (a regex ``$`` would let
    one through), no other script's digits or letters (``str.isdigit`` takes "٣"), and no
    checksum that decodes above 32 bits."""
    good = secrets.generate_secret()
    for bad in (good + "\n", " " + good, good[:10] + "٣" + good[11:], good[:10] + "é" + good[11:]):
        assert not secrets.is_well_formed(bad), bad
    assert not secrets.is_well_formed(good[: -secrets.CHECKSUM_LENGTH] + "zzzzzz")


def test_a_forged_secret_with_a_correct_checksum_is_well_formed_but_matches_nothing():
    body = "gts_" + "A" * 43
    forged = body + base62(zlib.crc32(body.encode()), 6)
    assert secrets.is_well_formed(forged)
    real = secrets.generate_secret()
    assert not secrets.secret_matches(forged, secrets.hash_secret(real))


def test_256_bits_of_randomness(many):
    assert len(set(many)) == len(many)
    values = [from_base62(SECRET.match(s).group(1)) for s in many]
    assert all(v < 2**256 for v in values)
    # a uniform 256-bit number has its top bit set half of the time (2000 draws: 1000 +- ~22)
    top = sum(v >> 255 for v in values)
    assert 850 < top < 1150
    # and every bit position varies
    seen_set = 0
    seen_clear = 0
    for v in values:
        seen_set |= v
        seen_clear |= ~v
    assert seen_set == 2**256 - 1
    assert seen_clear & (2**256 - 1) == 2**256 - 1
    # every base62 character shows up in the random part
    assert set("".join(SECRET.match(s).group(1) for s in many)) == set(ALPHABET)


def test_hash_is_sha256_and_comparison(many):
    import hashlib

    secret = many[0]
    stored = secrets.hash_secret(secret)
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored
    assert secrets.secret_matches(secret, stored)
    assert not secrets.secret_matches(many[1], stored)
    assert not secrets.secret_matches(secret, None)
    assert not secrets.secret_matches(secret, "")


def test_client_id_shape():
    ids = [secrets.generate_client_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for client_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{20,64}", client_id), client_id
        assert secrets.is_plausible_client_id(client_id)
        assert not client_id.startswith("gts_")
    assert not secrets.is_plausible_client_id("")
    assert not secrets.is_plausible_client_id("x" * 200)
    assert not secrets.is_plausible_client_id(ids[0][:-1] + "/")
