"""The JSON API under /api, and the original article's JSON calls on /users.

JSON in, JSON out: the API refuses any other body (415), which is what keeps it safe from
cross-site form posts without CSRF tokens, so the blueprint is exempt from CSRFProtect.
"""

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

from . import article, history, openapi, posts, users  # noqa: E402,F401 - registers the routes on bp
