"""Conditional requests and the rendered-page cache (SPEC §14).

Every GET page and API read that answers 200 carries a weak ETag (myapp/conditional/etags.py)
and a Cache-Control. Before the view runs, a request is answered
  - 304 Not Modified, when its If-None-Match holds the ETag it would get now;
  - else from this process's page cache (page_cache.py), when it holds the page for that ETag;
  - else the view runs, and its 200 is kept for the next request with the same ETag, unless it
    cannot be reused (below).

The ETag is made of the data version (myapp/data_version.py; fixed in snapshot mode, where no
query is needed), the app's code and settings, who asks (the session's account and stamp, a bearer
token, the session's CSRF token that the page's forms carry), and what was asked (scheme, host,
path, query string, Accept). It is a keyed hash: only this app can make one.

Where this runs, and why it never lets anyone past access control: a session's request is
answered before myapp/auth/identity.py loads the account (answer_early), so a cached page costs
the data version's query and nothing else. A match proves that this app answered this exact
URL with a 200 for this exact session at this exact data version, after the identity gate and
the view's own checks had let it through; an account's password, role or existence cannot have
changed since, or the data version would have. What the session cookie itself says (its
signature, its age) Flask has checked before any before_request runs. A bearer token can expire
with no write at all, so requests that carry one are answered only after identify() has checked
the token (answer_for_token).

Never kept or served from the cache: pages while the session holds flashed messages (the page
shows them once), responses that changed the session or set a cookie, anything but a 200,
streamed responses (the CSV exports get an ETag and 304s, not a cached body), HEAD responses (a
HEAD is answered from a GET's entry), form pages (security.NO_STORE_ENDPOINTS), /healthz,
/metrics, static files (Flask answers those conditionally itself) and /api/openapi.json.
Responses that changed the session get no ETag either: it was made from the session they replace.
"""

import os
import time
from dataclasses import dataclass

from flask import current_app, g, request, session

from .. import data_version
from ..errors import machine_request
from ..extensions import db
from ..security import NO_STORE_ENDPOINTS
from .etags import Tagger
from .page_cache import PageCache

# Besides the form pages: what Flask answers conditionally itself (static files), what must be
# live (/healthz, /metrics), and the API's description, which no data changes (and which tools
# read before the database has tables).
UNCACHED_ENDPOINTS = frozenset(
    NO_STORE_ENDPOINTS | {"static", "metrics.index", "health.healthz", "api.openapi"}
)
READS = frozenset({"GET", "HEAD"})
# A page bigger than this is not kept (a list page is 20-40 KB; per_page is capped).
MAX_PAGE_BYTES = 1024 * 1024
# In the environ: the data version fast_path.py read for a request it then passed on to Flask.
# Read just before, and still before the page's queries: Flask's path need not ask again.
VERSION_READ = "myapp.data_version"
# Flask-Login's and Flask's keys in the session.
SESSION_ACCOUNT = "_user_id"
FLASHES = "_flashes"
REMEMBER = "_remember"


@dataclass(frozen=True, slots=True)
class PageKey:
    etag: str
    cache_control: str
    account_id: int | None
    reader: tuple  # who asks, as the ETag has it: (session account, bearer token, CSRF token)


class Conditional:
    """One app's ETag maker and page cache, and in snapshot mode its one data version."""

    def __init__(self, config, reader):
        self.reader = reader
        self.tagger = Tagger(config)
        self.cache = PageCache(int(config["PAGE_CACHE_BYTES"]), MAX_PAGE_BYTES)
        self.snapshot = bool(config["READ_ONLY"])
        self.snapshot_cache_control = f"public, max-age={int(config['SNAPSHOT_MAX_AGE'])}"
        self.csrf_field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        self.fixed_version = None  # snapshot mode: (pid, the version of this process's copy)

    def data_version(self):
        if not self.snapshot:
            return self.reader.read()
        # A snapshot's data never changes: read its version once per process (per copy).
        pid = os.getpid()
        if self.fixed_version is None or self.fixed_version[0] != pid:
            self.fixed_version = (pid, data_version.current())
        return self.fixed_version[1]

    def version_outside_request(self):
        """The data version for fast_path.py, which has no app context: None when it cannot tell
        (snapshot mode before this process has read its copy's version)."""
        if self.snapshot:
            fixed = self.fixed_version
            return fixed[1] if fixed is not None and fixed[0] == os.getpid() else None
        return self.reader.read_outside_request()

    def key(self):
        """The ETag this request gets, with its Cache-Control and, for the log, the account id."""
        environ = request.environ
        version = environ.get(VERSION_READ)
        if self.snapshot:  # no accounts in snapshot mode
            return self.key_for(environ, current_app.config, version=version)
        return self.key_for(
            environ,
            current_app.config,
            account=session.get(SESSION_ACCOUNT) or "",
            token=environ.get("HTTP_AUTHORIZATION", ""),
            csrf=session.get(self.csrf_field) or "",
            version=version,
        )

    def key_for(self, environ, config, account="", token="", csrf="", version=None):
        """key() from its parts: also what fast_path.py computes before Flask has a request."""
        if self.snapshot:
            cache_control = self.snapshot_cache_control  # no accounts: everybody reads the same
        else:
            cache_control = "private, no-cache" if account or token else "no-cache"
        parts = [
            self.data_version() if version is None else version,
            config["READ_ACCESS"],  # read live: tests change it on a running app
            account,
            token,
            csrf,
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT", ""),
        ]
        limit = config.get("WTF_CSRF_TIME_LIMIT")
        if limit:  # the CSRF tokens a kept page carries must not outlive their time limit
            parts.append(str(int(time.time() // max(1, limit // 2))))
        account_id = account.partition(":")[0]
        return PageKey(
            self.tagger.tag(parts),
            cache_control,
            int(account_id) if account_id.isdigit() else None,
            (account, token, csrf),
        )


def state():
    return current_app.extensions["conditional"]


def answer_early():
    """before_request, just before identify(): sessions and anonymous readers (and snapshot mode)."""
    if uses_token():
        return None  # answer_for_token, once the token is checked
    return answer()


def answer_for_token():
    """before_request, just after identify(): requests with a bearer token, which it has checked."""
    if not uses_token():
        return None
    return answer()


def uses_token():
    """Whether identify() reads this request's bearer token (pages go by the session alone)."""
    return "HTTP_AUTHORIZATION" in request.environ and not state().snapshot and machine_request()


def answer():
    if request.method not in READS or request.endpoint is None or request.endpoint in UNCACHED_ENDPOINTS:
        return None
    if FLASHES in session:
        return None  # the page shows them, once: neither served from the cache nor kept
    conditional = state()
    key = g._page_key = conditional.key()
    g._page_account_id = key.account_id  # the request log's account, without loading it
    if_none_match = request.if_none_match if "HTTP_IF_NONE_MATCH" in request.environ else None
    matches = if_none_match is not None and if_none_match.contains_weak(key.etag)
    if matches and not if_none_match.star_tag:
        return not_modified(key)
    entry = conditional.cache.get(key.etag)
    if entry is not None:
        # `*` ("any version") matches a page that exists: known here, else after the view.
        return not_modified(key) if matches else hit(entry)
    return None


def hit(entry):
    g._page_hit = True
    return entry.response(current_app.response_class)


def not_modified(key):
    response = current_app.response_class(status=304)
    label_page(response, key)
    g._page_hit = True
    return response


def label_page(response, key):
    response.set_etag(key.etag, weak=True)
    response.headers["Cache-Control"] = key.cache_control
    response.vary.add("Accept")  # the ETag depends on it (/users answers JSON to a client that asks)


def finish(response):
    """after_request (runs before security's, which then keeps this Cache-Control): label a 200,
    keep it when it can be reused, and answer `If-None-Match: *`."""
    key = g.get("_page_key")
    if key is None or g.get("_page_hit") or response.status_code != 200 or changed_session(response):
        return response
    label_page(response, key)
    if request.method == "GET" and not response.is_streamed and not response.direct_passthrough:
        state().cache.put(key.etag, response, request.endpoint, request.environ, key.reader)
    if "HTTP_IF_NONE_MATCH" in request.environ:
        response = response.make_conditional(request)
    return response


def changed_session(response):
    """Whether a cookie goes out with this response: its ETag was made from the session before it
    (and the page may show what the change consumed: flashed messages)."""
    return (
        "Set-Cookie" in response.headers
        or session.modified  # flashes consumed, a CSRF token made, signed in or out
        or REMEMBER in session  # Flask-Login sets its cookie after this function
    )


def init_app(app):
    """Answer conditional requests and keep rendered pages; call after the accounts' hooks."""
    from ..auth.identity import identify

    with app.app_context():
        reader = data_version.Reader(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    app.extensions["conditional"] = Conditional(app.config, reader)
    hooks = app.before_request_funcs.setdefault(None, [])
    position = hooks.index(identify)
    hooks[position:position] = [answer_early]
    hooks.insert(position + 2, answer_for_token)
    app.after_request(finish)
