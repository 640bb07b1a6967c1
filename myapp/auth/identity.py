"""Who is asking: the session (Flask-Login) for pages, a bearer token for the API, checked once
per request before any view runs."""

from flask import current_app, g, request
from flask_login import AnonymousUserMixin

from ..database import SAFE_METHODS
from ..errors import ApiError, machine_request
from ..extensions import db, login_manager
from ..models import User
from . import tokens
from .permissions import BEARER, reads_public, refuse_anonymous, signed_in

# Open to everyone in every mode: the sign-in page, the health check, static files, the API's
# description, and /metrics (guarded by its own METRICS_TOKEN).
PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static", "api.openapi", "metrics.index"}


@login_manager.user_loader
def load_user(session_id):
    """The account of a session, while its password is the one it signed in with: one query."""
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_stamp is None or user.session_stamp != stamp:
        return None
    return user


def identify():
    """before_request: settle who is asking, and send anonymous readers to sign in when needed."""
    if request.endpoint is None:
        return  # no route: the 404 (or 405) comes next, and tells nothing about any row
    if current_app.config["READ_ONLY"]:
        g._login_user = AnonymousUserMixin()  # snapshot mode: no accounts at all
        return
    if machine_request():  # the API, the CSV exports, the article's JSON calls take tokens
        header = request.headers.get("Authorization")
        if header is not None:
            user = tokens.account_for(header)
            if user is None:
                raise ApiError(
                    401, "unauthorized", "The API token is not valid, expired or revoked.", headers=BEARER
                )
            g._login_user = user  # this request is the token's, whatever the session says
        elif request.method not in SAFE_METHODS:
            # The API is exempt from CSRF, so a cookie must never be enough to write through it.
            raise ApiError(
                401,
                "unauthorized",
                "Writing through the API needs a token: Authorization: Bearer <token>.",
                headers=BEARER,
            )
    if request.endpoint in PUBLIC_ENDPOINTS or signed_in() or reads_public():
        return
    refuse_anonymous()


def init_app(app):
    """Check who is asking before every view, and let templates ask what they may show."""
    login_manager.init_app(app)
    # Sessions are checked by their stamp (load_user); Flask-Login's own IP/agent check is off.
    login_manager.session_protection = None
    app.before_request(identify)

    from . import permissions

    app.context_processor(lambda: {"may": permissions})
