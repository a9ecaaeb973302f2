"""Passwords of people: argon2id hashes."""

from __future__ import annotations

from argon2 import PasswordHasher

from app.security.passwords import MIN_LENGTH, hash_password, verify_password

PASSWORD = "correct horse battery staple"


def test_argon2id_hash():
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_salted():
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_verify():
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD) is True
    assert verify_password(stored, PASSWORD + " ") is False
    assert verify_password(stored, PASSWORD.upper()) is False
    assert verify_password(stored, "") is False


def test_verify_without_a_hash_or_with_garbage():
    assert verify_password(None, PASSWORD) is False
    assert verify_password(None, "gatehouse-dummy-password") is False
    assert verify_password("not a hash", PASSWORD) is False
    assert verify_password("$argon2id$v=19$m=65536,t=3,p=4$broken", PASSWORD) is False


def test_minimum_length_is_twelve():
    assert MIN_LENGTH == 12


def test_unicode_password():
    stored = hash_password("pässwörd-ñ-密码-long")
    assert verify_password(stored, "pässwörd-ñ-密码-long")
    assert not verify_password(stored, "passwort-n-密码-long")
