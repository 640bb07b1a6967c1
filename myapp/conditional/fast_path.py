"""Answers to repeated reads made before Flask sees the request: from the page cache, or 304.

A page this process has rendered and kept (myapp/conditional/page_cache.py) is found by its ETag,
and the ETag is computed from the WSGI environ, the session cookie and the data version alone. So a
repeated read needs none of Flask's request machinery (request and app contexts, URL matching,
before/after_request functions): this WSGI middleware answers it, about twice as fast, and passes
everything else on to Flask unchanged.

It answers only when Flask's own path (answer() in __init__.py) would have answered the same from
the same entry, and it writes what that path writes: the request's log line, its metrics, its
X-Request-ID, the security headers, Vary: Cookie. It passes on to Flask:
  - anything but a GET, a request RequestGuard marked (untrusted Host), a bearer token (checked by
    identify() against the database: a token can expire with no write);
  - a session cookie whose signature or age does not check out (Flask then starts an empty one),
    a session with flashed messages, a permanent session that Flask would refresh, Flask-Login's
    remember cookie or mark (Flask-Login would change the session);
  - a page this process has not kept: it was never rendered here, or not at this version.
Why a kept entry may go out without the account being loaded: see __init__.py (a match proves
this app answered this session this URL at this data version, after every check).
"""

import sqlite3
import threading
import time
from time import perf_counter

from cachetools import LRUCache
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import parse_cookie, parse_etags

from ..observability.requestlog import REQUEST_ID_HEADER, RequestStats, log_request, request_id_from
from ..security import BODY_TOO_LARGE, HEADERS, HSTS, REFUSED_HOST
from . import FLASHES, REMEMBER, SESSION_ACCOUNT, VERSION_READ

VERIFIED_SESSIONS = 4096  # session cookies whose signature was checked, most recent
STATUS_LINES = {200: "200 OK", 304: "304 NOT MODIFIED"}


class FastPath:
    """WSGI middleware between RequestGuard (and ProxyFix) and Flask."""

    def __init__(self, wsgi_app, app):
        self.wsgi_app = wsgi_app
        self.app = app
        self.serializer = None  # Flask's session serializer, made on first use (needs the config)
        self.verified = LRUCache(maxsize=VERIFIED_SESSIONS)  # cookie value -> (session, signed at)
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        started = perf_counter()
        try:
            found = self.find(environ)
        except (SQLAlchemyError, sqlite3.Error):
            found = None  # the database is not answering: Flask's path says so properly
        if found is None:
            return self.wsgi_app(environ, start_response)
        key, entry, version_seconds = found
        return self.answer(environ, start_response, key, entry, started, version_seconds)

    def find(self, environ):
        """(the request's PageKey, the kept Entry, seconds spent reading the data version), or None."""
        if environ.get("REQUEST_METHOD") != "GET" or REFUSED_HOST in environ or BODY_TOO_LARGE in environ:
            return None
        conditional = self.app.extensions.get("conditional")
        if conditional is None:
            return None
        config = self.app.config
        if "HTTP_AUTHORIZATION" in environ and not conditional.snapshot:
            return None
        session = self.session(environ, config)
        if session is None:
            return None
        account = csrf = ""
        if not conditional.snapshot:  # no accounts in snapshot mode
            account = session.get(SESSION_ACCOUNT) or ""
            csrf = session.get(conditional.csrf_field) or ""
        if not conditional.cache.may_hold(environ, (account, "", csrf)):
            return None  # nothing kept for this reader at this address: no query for the version
        started = perf_counter()
        version = conditional.version_outside_request()
        if version is None:
            return None
        version_seconds = perf_counter() - started
        environ[VERSION_READ] = version  # on a miss, Flask's path uses it rather than ask again
        key = conditional.key_for(environ, config, account=account, csrf=csrf, version=version)
        entry = conditional.cache.get(key.etag)
        return None if entry is None else (key, entry, version_seconds)

    def session(self, environ, config):
        """The session's values when Flask would read the same and leave the cookie alone, else None."""
        cookies = parse_cookie(environ)
        if config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies:
            return None
        value = cookies.get(config["SESSION_COOKIE_NAME"])
        if not value:
            return {}
        session = self.verified_session(value)
        if not isinstance(session, dict) or FLASHES in session or REMEMBER in session:
            return None
        if session.get("_permanent") and config["SESSION_REFRESH_EACH_REQUEST"]:
            return None  # Flask sends the cookie again with a later expiry
        return session

    def verified_session(self, value):
        """What the cookie holds if its signature checks out and it is not too old, as Flask's
        session interface checks it; else None. A cookie already checked is found in a small
        cache of its own (a check is some 20 µs: HMAC, base64, zlib, tagged JSON): its age is
        checked again against its signed timestamp each time."""
        max_age = int(self.app.permanent_session_lifetime.total_seconds())
        with self.lock:
            known = self.verified.get(value)
        if known is None:
            if self.serializer is None:
                self.serializer = self.app.session_interface.get_signing_serializer(self.app)
            if self.serializer is None:
                return None  # no SECRET_KEY: Flask answers that
            try:
                known = self.serializer.loads(value, max_age=max_age, return_timestamp=True)
            except Exception:  # itsdangerous' BadSignature and friends: Flask starts an empty session
                return None
            with self.lock:
                self.verified[value] = known
        session, signed_at = known
        age = time.time() - signed_at.timestamp()
        return dict(session) if 0 <= age <= max_age else None

    def answer(self, environ, start_response, key, entry, started, version_seconds):
        metrics = self.app.extensions["metrics"]
        stats = RequestStats(
            request_id_from(environ.get("HTTP_X_REQUEST_ID")), "GET", request_path(environ), entry.endpoint
        )
        stats.started = started
        stats.account_id = key.account_id
        if version_seconds:
            stats.db_seconds, stats.statements = version_seconds, 1
        metrics.in_progress.inc()
        stats.in_progress = True
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None and parse_etags(if_none_match).contains_weak(key.etag):
            stats.status, body = 304, b""
            headers = [
                ("ETag", f'W/"{key.etag}"'),
                ("Cache-Control", key.cache_control),
                ("Vary", "Accept, Cookie"),
            ]
        else:
            stats.status, body = entry.status, entry.body
            headers = [(name, vary_cookie(name, value)) for name, value in entry.headers]
        present = {name.lower() for name, _value in headers}
        headers.extend((name, value) for name, value in HEADERS.items() if name.lower() not in present)
        if self.app.config["HTTPS"]:
            headers.append(("Strict-Transport-Security", HSTS))
        headers.append((REQUEST_ID_HEADER, stats.request_id))
        try:
            start_response(STATUS_LINES.get(stats.status, str(stats.status)), headers)
        finally:
            duration = perf_counter() - started
            metrics.observe_request(stats.endpoint, "GET", stats.status, duration, stats.db_seconds)
            metrics.in_progress.dec()
            log_request(stats, duration, self.app.config["SLOW_REQUEST_MS"])
        return [body]


def vary_cookie(name, vary):
    """Flask adds Cookie to Vary whenever the session was read, as it is for every page."""
    if name.lower() != "vary":
        return vary
    names = [name.strip() for name in vary.split(",") if name.strip()]
    return vary if "cookie" in (name.lower() for name in names) else ", ".join([*names, "Cookie"])


def request_path(environ):
    """request.path as Werkzeug makes it: the WSGI string back to its bytes, read as UTF-8."""
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    return "/" + path.lstrip("/")
