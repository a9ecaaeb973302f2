"""Passwords of people: argon2id hashes, with the parameters the settings choose."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles

from app.config import ConfigError, load_settings
from app.security.passwords import MIN_LENGTH, Passwords

PASSWORD = "correct horse battery staple"


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(profiles.CHEAPEST)


def test_argon2id_hash(passwords):
    stored = passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_salted(passwords):
    assert passwords.hash(PASSWORD) != passwords.hash(PASSWORD)


def test_verify(passwords):
    stored = passwords.hash(PASSWORD)
    assert passwords.verify(stored, PASSWORD) is True
    assert passwords.verify(stored, PASSWORD + " ") is False
    assert passwords.verify(stored, PASSWORD.upper()) is False
    assert passwords.verify(stored, "") is False


def test_verify_without_a_hash_or_with_garbage(passwords):
    assert passwords.verify(None, PASSWORD) is False
    assert passwords.verify(None, "gatehouse-dummy-password") is False
    assert passwords.verify("not a hash", PASSWORD) is False
    assert passwords.verify("$argon2id$v=19$m=65536,t=3,p=4$broken", PASSWORD) is False


def test_minimum_length_is_twelve():
    assert MIN_LENGTH == 12


def test_unicode_password(passwords):
    stored = passwords.hash("pässwörd-ñ-密码-long")
    assert passwords.verify(stored, "pässwörd-ñ-密码-long")
    assert not passwords.verify(stored, "passwort-n-密码-long")


def test_the_default_cost_is_argon2_cffis_recommended_one():
    settings = load_settings({})
    stored = Passwords(settings.argon2).hash(PASSWORD)
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY


def test_a_hash_made_under_other_parameters_still_verifies(passwords):
    """Changing the setting never locks anyone out: a hash records its own parameters."""
    old = Passwords(profiles.RFC_9106_LOW_MEMORY).hash(PASSWORD)
    assert passwords.verify(old, PASSWORD)


def test_the_cost_setting_refuses_an_unknown_profile():
    with pytest.raises(ConfigError, match="GATEHOUSE_ARGON2_PROFILE"):
        load_settings({"GATEHOUSE_ARGON2_PROFILE": "fast"})
