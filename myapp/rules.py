"""The rules for a user's and a post's fields, in one place for the HTML forms and the JSON API.

Each rule takes the submitted value and returns the cleaned value or raises Invalid with the
message a person sees next to the field.
"""

import re

from email_validator import EmailNotValidError, validate_email

USERNAME_MIN, USERNAME_MAX = 3, 80
EMAIL_MAX = 120
TITLE_MAX = 100
BODY_MAX = 10_000
PASSWORD_MIN, PASSWORD_MAX = 12, 1024

USERNAME_CHARS = re.compile(r"[A-Za-z0-9_.\-]+")
# C0 and C1 control characters and DEL; a post's body may keep newlines and tabs.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
BODY_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Invalid(ValueError):
    """A field's value breaks a rule; str() is the message for the person who sent it."""


def _text(value, *, required=True):
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid("Must be text.")
    try:
        # JSON can carry lone surrogates (\ud800), which no database can store.
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("Must be valid Unicode text.") from None
    value = value.strip()
    if required and not value:
        raise Invalid("This field is required.")
    return value


def _no_control_chars(value, pattern=CONTROL_CHARS):
    if pattern.search(value):
        raise Invalid("Control characters are not allowed.")
    return value


def username(value):
    value = _no_control_chars(_text(value))
    if not USERNAME_MIN <= len(value) <= USERNAME_MAX:
        raise Invalid(f"Must be {USERNAME_MIN} to {USERNAME_MAX} characters long.")
    if not USERNAME_CHARS.fullmatch(value):
        raise Invalid("Use only letters A–Z, digits, and . _ -")
    return value


def email(value):
    value = _no_control_chars(_text(value))
    if len(value) > EMAIL_MAX:
        raise Invalid(f"Must be at most {EMAIL_MAX} characters long.")
    try:
        # Syntax only: no DNS look-up, which would make a request wait on the network.
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise Invalid(str(error)) from None
    if len(result.normalized) > EMAIL_MAX:
        raise Invalid(f"Must be at most {EMAIL_MAX} characters long.")
    return result.normalized


def title(value):
    value = _no_control_chars(_text(value))
    if len(value) > TITLE_MAX:
        raise Invalid(f"Must be at most {TITLE_MAX} characters long.")
    return value


def body(value):
    # Browsers send a textarea's line breaks as CRLF; store plain newlines.
    value = _text(value, required=False).replace("\r\n", "\n").replace("\r", "\n")
    _no_control_chars(value, BODY_CONTROL_CHARS)
    if len(value) > BODY_MAX:
        raise Invalid(f"Must be at most {BODY_MAX:,} characters long.")
    return value


def password(value, *, username="", email=""):
    """A new password: 12 to 1024 characters, no composition rules, not the username or email.

    Never stripped: white space a person typed is part of their password.
    """
    if not isinstance(value, str):
        raise Invalid("Must be text.")
    if not value:
        raise Invalid("This field is required.")
    if len(value) < PASSWORD_MIN:
        raise Invalid(f"Must be at least {PASSWORD_MIN} characters long.")
    if len(value) > PASSWORD_MAX:
        raise Invalid(f"Must be at most {PASSWORD_MAX:,} characters long.")
    if value.lower() in {(username or "").lower(), (email or "").lower()}:
        raise Invalid("Must not be the username or the email address.")
    return value


TOKEN_NAME_MAX = 80


def token_name(value):
    value = _no_control_chars(_text(value))
    if len(value) > TOKEN_NAME_MAX:
        raise Invalid(f"Must be at most {TOKEN_NAME_MAX} characters long.")
    return value
