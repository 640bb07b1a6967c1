"""Reading and checking JSON request bodies, with the field rules of myapp/rules.py."""

from flask import request
from werkzeug.exceptions import BadRequest

from .. import rules
from ..converters import MAX_ID
from ..errors import ApiError
from ..posts.queries import user_exists


def json_body():
    """The request's JSON object; 415 for another media type, 400 if malformed, 422 if not an object."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        data = request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(422, "validation_failed", "The body must be a JSON object.")
    return data


def positive_id(value):
    # bool is an int in Python, but true is not an id.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise rules.Invalid(f"Must be an id: an integer from 1 to {MAX_ID}.")
    return value


def author_id(value):
    value = positive_id(value)
    if not user_exists(value):
        raise rules.Invalid("No user has this id.")
    return value


USER_FIELDS = {"username": rules.username, "email": rules.email}
OWN_POST_FIELDS = {"title": rules.title, "body": rules.body}
POST_FIELDS = {**OWN_POST_FIELDS, "user_id": author_id}
# Roles and passwords are set through the forms and the command line only (SPEC §11).
NOT_THROUGH_THE_API = {"role", "password", "password_hash"}


def clean(data, fields, *, partial=False, extra=()):
    """Apply each field's rule; every broken rule (and unknown field) is reported in one 422.

    partial (PATCH): only the fields present are checked. extra: names the caller reads itself.
    """
    errors = {name: "Unknown field." for name in data if name not in fields and name not in extra}
    for name in NOT_THROUGH_THE_API & errors.keys():
        errors[name] = "Set through the site's forms or the command line, never through the API."
    cleaned = {}
    for name, rule in fields.items():
        if partial and name not in data:
            continue
        try:
            cleaned[name] = rule(data.get(name))
        except rules.Invalid as error:
            errors[name] = str(error)
    if errors:
        raise ApiError(422, "validation_failed", "Some fields are not valid.", errors)
    return cleaned


def read_version(data):
    """The version the client read, or None when it sent none."""
    if data.get("version") is None:
        return None
    try:
        return positive_id(data["version"])
    except rules.Invalid:
        raise ApiError(
            422, "validation_failed", "Some fields are not valid.", {"version": "Must be an integer from 1."}
        ) from None
