"""The original article's POST /users: JSON in, {"message": "User created!"} out.

Exempt from CSRF with the rest of the API, so it must refuse everything but application/json
(json_body answers 415): a cross-site HTML form cannot send that media type.
"""

from flask import url_for

from . import bp
from .users import create_user


@bp.post("/users")
def article_create_user():
    """Add a user from a JSON body {"username", "email"}, as the article does."""
    user = create_user()
    return {"message": "User created!"}, 201, {"Location": url_for("api.get_user", user_id=user.id)}
