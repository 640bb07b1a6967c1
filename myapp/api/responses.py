"""Answers shared by the API's resources."""

from flask import current_app

from ..errors import ApiError


def not_found(kind):
    raise ApiError(404, "not_found", f"No {kind} has this id.")


def stale(current_version):
    message = "Someone else changed this since you read it; read it again and reapply your change."
    fields = {"version": f"The current version is {current_version}."} if current_version else {}
    return ApiError(409, "stale_version", message, fields)


def no_content():
    """204 with no body and no Content-Type."""
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]
    return response
