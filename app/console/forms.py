"""Flask-WTF forms of the console.

Forms check only what a browser can get wrong on its own (a required field left
empty, text over the length the database holds); every rule of the domain (expiry
limits, the cap, duplicate names, who may grant what) is the service layer's, and
its errors are attached to these fields by ``app.console.errors.attach``.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from app.security.passwords import MIN_LENGTH
from app.services.client_rules import DESCRIPTION_MAX, NAME_MAX

#: attributes of a ``YYYY-MM-DD`` text box
DAY_INPUT = {
    "class": "day",
    "placeholder": "YYYY-MM-DD",
    "pattern": r"\d{4}-\d{2}-\d{2}",
    "inputmode": "numeric",
    "maxlength": 10,
    "autocomplete": "off",
}
GRACE_CHOICES = [
    SelectChoice(0, "None: the old secret stops working now"),
    SelectChoice(3600, "1 hour"),
    SelectChoice(86400, "1 day"),
    SelectChoice(7 * 86400, "7 days"),
]
#: the longest pasted key set and list of networks accepted (a set of ten RSA keys is ~8 KiB)
KEYS_MAX = 32 * 1024
NETWORKS_MAX = 4000
ROLE_CHOICES = [
    SelectChoice("member", "Member (service rep)"),
    SelectChoice("admin", "Administrator"),
]


class ServicesField(SelectMultipleField):
    """Checkboxes; the template renders them (with labels and the filter box)."""


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class TokenDetailsForm(FlaskForm):
    """Name, description and services: what both the wizard and the edit form hold."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Give the token a name."),
            Length(max=NAME_MAX, message=f"Use at most {NAME_MAX} characters."),
        ],
    )
    description = TextAreaField(
        "Description",
        validators=[
            Length(max=DESCRIPTION_MAX, message=f"Use at most {DESCRIPTION_MAX} characters.")
        ],
    )
    services = ServicesField(
        "Services", validators=[DataRequired("Choose at least one service.")], choices=[]
    )
    allowed_networks = StringField(
        "Allowed networks",
        validators=[Length(max=NETWORKS_MAX, message="That is too many networks.")],
        description="Where the integration may authenticate from: CIDR ranges or addresses, "
        "separated by commas or spaces (192.0.2.0/24, 2001:db8::/32). Empty: anywhere.",
    )


class GenerateForm(TokenDetailsForm):
    owner = SelectField("Owner", choices=[])
    #: a text box, not the browser's date picker: that one shows dates in the reader's
    #: locale, while every date Gatehouse shows and takes is ``YYYY-MM-DD`` (UTC)
    expires_on = StringField(
        "Expires on",
        validators=[DataRequired("Choose an expiry date.")],
        render_kw=DAY_INPUT,
    )
    jwks = TextAreaField(
        "Public key (optional)",
        validators=[Length(max=KEYS_MAX, message="That is too long for a key set.")],
        description="To sign in with a private key instead of a secret (private_key_jwt), "
        "paste its public key: a PEM (-----BEGIN PUBLIC KEY-----) or a JWK Set. "
        "Leave empty for a secret.",
    )


class KeysForm(FlaskForm):
    """A key client's new public keys."""

    jwks = TextAreaField(
        "New public keys",
        validators=[
            DataRequired("Paste a PEM public key or a JWK Set."),
            Length(max=KEYS_MAX, message="That is too long for a key set."),
        ],
        description="A PEM public key or a JWK Set. It replaces every key of this token: "
        "assertions signed with the current keys stop working within a second.",
    )


class RotateForm(FlaskForm):
    grace_seconds = SelectField(
        "Keep the old secret working for", choices=GRACE_CHOICES, coerce=int, default=0
    )


class UserForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the person's name."), Length(max=200)]
    )
    email = EmailField("Email", validators=[DataRequired("Enter an email address.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default="member")
    services = ServicesField("Services they hold", choices=[])
    password = PasswordField(
        "Initial password",
        description=f"At least {MIN_LENGTH} characters. Leave empty and the person "
        "cannot sign in until a password is set.",
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Enter the new password.")],
        description=f"At least {MIN_LENGTH} characters.",
    )


def split_networks(text: str | None) -> list[str]:
    """``192.0.2.0/24, 2001:db8::/32`` (commas, spaces or lines) -> a list; the services
    check each one."""
    return (text or "").replace(",", " ").split()
