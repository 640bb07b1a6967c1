"""Error pages in the site's layout, and JSON errors for the API: never a stack trace."""

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .listing import prefers_json


class ApiError(Exception):
    """An error the JSON API answers with: status, a code a program can test, fields at fault."""

    def __init__(self, status, code, message, fields=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}
        self.headers = headers or {}


def wants_json():
    # Every /api path, known or not, and the API's routes outside /api (the article's POST /users).
    return request.path.startswith("/api/") or request.path == "/api" or request.blueprint == "api"


def machine_request():
    """A request from a program: the API, the CSV exports, the article's GET /users as JSON.

    These take bearer tokens (myapp/auth/identity.py) and get their refusals as JSON.
    """
    if wants_json() or request.blueprint == "exports":
        return True
    return request.endpoint == "users.index" and prefers_json()


def json_error(code, status, message, fields=None):
    return {"error": {"code": code, "message": message, "fields": fields or {}}}, status


def handle_http_error(error):
    if wants_json():
        code = error.name.lower().replace(" ", "_")
        response = json_error(code, error.code, error.description)
    else:
        response = render_template("errors/error.html", error=error), error.code
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        return (*response, {"Allow": ", ".join(error.valid_methods)})
    return response


def handle_api_error(error):
    return (*json_error(error.code, error.status, error.message, error.fields), error.headers)


def handle_csrf_error(error):
    if "referrer" in (error.description or ""):
        # Over HTTPS, Flask-WTF also wants a Referer from this site (WTF_CSRF_SSL_STRICT).
        error.description = (
            "The form was sent without a Referer header from this site, which this site needs over "
            "HTTPS. Allow your browser to send it for this site, then reload the page and try again."
        )
    else:
        error.description = (
            "The form had expired or did not come from this site. Go back, reload the page and try again."
        )
    return handle_http_error(error)


def handle_server_error(error):
    # Flask has logged the exception; end the transaction so this worker's next request starts
    # clean, and show the error page instead of a stack trace.
    db.session.rollback()
    return handle_http_error(error)


def register_errorhandlers(app):
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_server_error)
