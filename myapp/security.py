"""Security headers, trusted hosts, HTTPS and reverse-proxy settings (SPEC §12).

Two layers: RequestGuard, a WSGI middleware, looks at the Host header and a chunked body before
Flask or Werkzeug parse them (a malformed Host makes Werkzeug fail while building its URL adapter,
and a chunked body is silently cut at MAX_CONTENT_LENGTH); it only marks what it found, and the
first before_request turns the mark into a normal 400/413 that the error handlers render as a page
or as JSON. ProxyFix wraps it when PROXY_COUNT says how many proxies to believe.
"""

import io
import ipaddress
import os
import re
import stat

from flask import abort, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import db

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

# Pages with a form answer Cache-Control: no-store, so that a shared or back-button cache never
# keeps a CSRF token or half-typed input (or a new API token). Extend this set for new form pages.
NO_STORE_ENDPOINTS = {
    "users.create",
    "users.edit",
    "users.delete",
    "posts.create",
    "posts.edit",
    "posts.delete",
    "auth.login",
    "auth.account",
    "auth.tokens",
}

DEFAULT_TRUSTED_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# What RequestGuard leaves in the environ for check_request (below) to answer.
REFUSED_HOST = "myapp.refused_host"
BODY_TOO_LARGE = "myapp.body_too_large"
# A stand-in Host for a refused request, so that Flask can still route it and render the 400 page.
STAND_IN_HOST = "localhost"

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_HOST_AND_PORT = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]{1,5}))?", re.ASCII)


def host_name(value):
    """The lower-case host of a Host header (port dropped; IPv6 kept in brackets), or None when
    the value is malformed: bad characters, an empty or over-long DNS label, a bad port or IPv6.

    Written here instead of using Flask's TRUSTED_HOSTS: Werkzeug compares an entry up to its
    first ':', so "[::1]" can never match, and it lets "ex..ample" through to the IDNA codec.
    """
    match = _HOST_AND_PORT.fullmatch(value or "")
    if not match:
        return None
    host, port = match.groups()
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    host = host.lower()
    if host.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    host = host.removesuffix(".")  # "example.com." is the same name, fully qualified
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return host


def trusted_hosts(value):
    """TRUSTED_HOSTS (comma-separated names, any port) as a set; the loopback names when unset."""
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    hosts = set()
    for name in names or DEFAULT_TRUSTED_HOSTS:
        host = host_name(name)
        if host is None:
            raise ValueError(f"TRUSTED_HOSTS has a malformed host name: {name!r}")
        hosts.add(host)
    return frozenset(hosts)


class RequestGuard:
    """WSGI middleware: refuse untrusted or malformed Hosts, and chunked bodies over the limit."""

    def __init__(self, wsgi_app, app):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST", "")
        if host_name(host) not in self.app.config["ALLOWED_HOSTS"]:
            environ[REFUSED_HOST] = host
            environ["HTTP_HOST"] = STAND_IN_HOST
        elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            self.buffer_chunked_body(environ)
        return self.wsgi_app(environ, start_response)

    def buffer_chunked_body(self, environ):
        # A chunked body has no Content-Length; Werkzeug reads it up to MAX_CONTENT_LENGTH and
        # then stops without an error, so a JSON body cut there looked malformed (400). Read one
        # byte past the limit here instead: more than that is a 413, less becomes a sized body.
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if limit is None or environ.get("CONTENT_LENGTH"):
            return
        stream, chunks, size = environ["wsgi.input"], [], 0
        while size <= limit:
            chunk = stream.read(min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            environ[BODY_TOO_LARGE] = True
            chunks = []
        body = b"".join(chunks)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))


def check_request():
    """The first before_request: answer what RequestGuard found, before any other check runs."""
    if REFUSED_HOST in request.environ:
        abort(400, description="This server does not answer for the host this request named.")
    if request.environ.get(BODY_TOO_LARGE):
        raise RequestEntityTooLarge()


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint in NO_STORE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    elif signed_in_request() and "Cache-Control" not in response.headers:
        # A page made for one account: no shared cache may keep it, and the browser asks again.
        response.headers["Cache-Control"] = "private, no-cache"
    if current_app.config["HTTPS"]:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def signed_in_request():
    """Whether this request was answered for an account; never loads one just to find out."""
    user = g.get("_login_user")
    return user is not None and user.is_authenticated


def make_private_folder(path):
    """Create the instance folder readable by the app's own user only (0700, whatever the umask)."""
    try:
        os.makedirs(path, mode=0o700)
    except FileExistsError:
        return  # the operator's folder: its mode is theirs to choose
    os.chmod(path, 0o700)


def check_secret_key(config):
    """Production refuses to start with a short SECRET_KEY: it signs every session and CSRF token."""
    minimum = config.get("MIN_SECRET_KEY_LENGTH")
    if minimum and len(config.get("SECRET_KEY") or "") < minimum:
        raise RuntimeError(
            f"SECRET_KEY must be at least {minimum} characters long; unset it to have one made in "
            "the instance folder, or make one: python -c 'import secrets; print(secrets.token_hex(32))'"
        )


def make_private_database_file(url):
    """Create a SQLite database file 0600 before SQLite does (it would make it 0644 less the
    umask), and take group and world access away from an existing one. SQLite gives the -wal and
    -shm files it creates later the main file's permissions, so they are private too."""
    if url.get_backend_name() != "sqlite" or url.query.get("uri") or url.database in (None, "", ":memory:"):
        return
    path = url.database
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except FileExistsError:
        for name in (path, f"{path}-wal", f"{path}-shm"):
            try:
                mode = os.stat(name).st_mode
                if stat.S_IMODE(mode) & 0o077:
                    os.chmod(name, stat.S_IMODE(mode) & 0o700)
            except OSError:  # not there yet, or not ours to change
                pass
    except OSError:
        pass  # no such folder, or not writable: SQLite will say so on the first connection


def init_app(app):
    """Headers on every response, the host check, HTTPS cookies and HSTS, and ProxyFix."""
    app.config["ALLOWED_HOSTS"] = trusted_hosts(app.config.get("TRUSTED_HOSTS_SETTING"))
    with app.app_context():
        make_private_database_file(db.engine.url)
    app.config["HTTPS"] = bool(app.config.get("HTTPS"))
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True  # Flask-Login's, once sign-in lands
        app.config["PREFERRED_URL_SCHEME"] = "https"
    # Before every other before_request (CSRF, snapshot mode), so a refused request does nothing.
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
    app.after_request(add_headers)
    app.wsgi_app = RequestGuard(app.wsgi_app, app)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies < 0:
        raise ValueError("PROXY_COUNT must be 0 or more")
    if proxies:
        # Exactly N proxies' X-Forwarded-For/Proto/Host/Port: ProxyFix takes the Nth value from
        # the right, so whatever a client put in front of them is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
