"""Error pages in the site's layout, and JSON errors for the API: never a stack trace."""

import json
import logging
import sys

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError, ServiceUnavailable

from .extensions import db
from .listing import prefers_json
from .transactions import TransactionConflict


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
    rollback_quietly()
    return handle_http_error(error)


def rollback_quietly():
    """End the request's transaction; on a dropped connection there is nothing left to roll back."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session().invalidate()


def handle_transaction_conflict(_error):
    # Retried already (myapp/transactions.py): a conflicting write kept winning. Nothing was saved.
    rollback_quietly()
    return handle_http_error(
        Conflict("Another change to the same rows got in the way, so nothing was saved. Please try again.")
    )


def handle_database_unavailable(error):
    # The connection dropped (a restarted database), or a lock wait or statement hit its timeout:
    # a temporary condition, not a bug in the request. The pool's pre-ping heals the next one.
    logging.getLogger(__name__).warning("database unavailable: %s", error)
    rollback_quietly()
    response = handle_http_error(
        ServiceUnavailable("The database is not answering right now. Please try again.")
    )
    return (*response, {"Retry-After": "1"})


class JsonApiErrors:
    """WSGI middleware: an exception that escapes Flask itself (one raised while the request's
    context is torn down, after the error handlers) answers /api with JSON, not gunicorn's HTML."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        try:
            return self.wsgi_app(environ, start_response)
        except Exception:
            path = environ.get("PATH_INFO", "")
            if not (path == "/api" or path.startswith("/api/")):
                raise
            logging.getLogger(__name__).exception("error after the response was made: %s", path)
            body, _status = json_error("service_unavailable", 503, "The database is not answering right now.")
            data = json.dumps(body).encode()
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                ("Retry-After", "1"),
            ]
            start_response("503 SERVICE UNAVAILABLE", headers, sys.exc_info())
            return [data]


def register_errorhandlers(app):
    app.wsgi_app = JsonApiErrors(app.wsgi_app)
    app.register_error_handler(TransactionConflict, handle_transaction_conflict)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_server_error)
