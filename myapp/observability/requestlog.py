"""Request ids, database time per request, and the one JSON log line each request writes.

The request id and the figures live in a RequestStats kept on `g` for the request's life (also
while a streamed response is produced under stream_with_context). A logging filter on the JSON
handler stamps that id on every record written meanwhile, whichever logger wrote it, so errors and
their tracebacks carry it too.
"""

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from time import perf_counter

from flask import g, has_request_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy or client may send as an id: short, and nothing a log line or header could be forged
# with (no spaces, quotes, control characters). Anything else is replaced by a fresh id.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
MAX_SQL_LOGGED = 50  # statements listed in a slow request's line; db_statements counts them all
MAX_SQL_CHARS = 1000
NO_ENDPOINT = "none"  # requests that matched no route: unknown paths, wrong methods

request_log = logging.getLogger("myapp.request")
# The same RequestStats as g._request_stats, for the hot paths (each SQL statement, each log record)
# where a ContextVar costs far less than `g`. Set when a request starts, cleared when it is done.
_current: ContextVar["RequestStats | None"] = ContextVar("request_stats", default=None)


class RequestStats:
    """One request's id, what was asked, its status and its database time."""

    __slots__ = (
        "account_id", "db_seconds", "endpoint", "in_progress", "method", "path", "request_id", "sql",
        "started", "statements", "status",
    )  # fmt: skip

    def __init__(self, request_id, method, path, endpoint):
        self.request_id = request_id
        self.method, self.path, self.endpoint = method, path, endpoint
        self.started = perf_counter()
        self.status = None
        self.account_id = None
        self.in_progress = False  # counted in the in-progress gauge, to be taken off when done
        self.db_seconds = 0.0
        self.statements = 0
        self.sql = []  # (statement, seconds) of the first MAX_SQL_LOGGED statements

    def add_statement(self, statement, seconds):
        self.db_seconds += seconds
        self.statements += 1
        if len(self.sql) < MAX_SQL_LOGGED:
            self.sql.append((statement, seconds))


def request_id_from(header_value):
    """The client's id when it is well-formed, else a new one."""
    if header_value and VALID_REQUEST_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def request_stats():
    """This request's RequestStats, made on first use (by the request_started signal)."""
    stats = g.get("_request_stats")
    if stats is None:
        req = request._get_current_object()
        request_id = request_id_from(req.headers.get(REQUEST_ID_HEADER))
        stats = g._request_stats = RequestStats(request_id, req.method, req.path, req.endpoint or NO_ENDPOINT)
        _current.set(stats)
    return stats


def request_done():
    _current.set(None)


def current_request_id():
    stats = _current.get()
    # The context check: a streamed response never closed must not lend its id to a CLI command.
    return stats.request_id if stats is not None and has_request_context() else None


def current_account_id():
    """The signed-in account's id, or None. Reads the user Flask-Login has already loaded for this
    request (g._login_user) and never loads one itself, so logging costs no query."""
    user = g.get("_login_user")
    if user is None:
        # Answered from the page cache or with a 304 before the account was loaded: the id that
        # the session names (myapp/conditional/), which that answer was made for.
        return g.get("_page_account_id")
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "id", None)


# SQLAlchemy cursor events, listened to on the app's own engine only (see init_observability).


def before_cursor_execute(conn, _cursor, _statement, _parameters, _context, _executemany):
    conn.info["observability_started"] = perf_counter()


def after_cursor_execute(conn, _cursor, statement, _parameters, _context, _executemany):
    started = conn.info.pop("observability_started", None)
    stats = _current.get()
    if started is not None and stats is not None and has_request_context():
        stats.add_statement(statement, perf_counter() - started)


def record_statement(statement, seconds):
    """Count a statement sent outside the app's engine (the data version's reader)."""
    stats = _current.get()
    if stats is not None and has_request_context():
        stats.add_statement(statement, seconds)


def log_request(stats, duration, slow_after_ms):
    """The request's one line; a slow one also lists its statements (SQL only, never parameters).
    Needs no request context: a streamed response is logged when the server closes it."""
    status = stats.status or 500
    fields = {
        "request_id": stats.request_id,
        "method": stats.method,
        "endpoint": stats.endpoint,
        "path": stats.path,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "db_ms": round(stats.db_seconds * 1000, 2),
        "db_statements": stats.statements,
        "account_id": stats.account_id,
    }
    slow = duration * 1000 >= slow_after_ms
    if slow:
        fields["slow"] = True
        fields["sql"] = [
            {"ms": round(seconds * 1000, 2), "statement": statement[:MAX_SQL_CHARS]}
            for statement, seconds in stats.sql
        ]
    level = logging.WARNING if slow or status >= 500 else logging.INFO
    if request_log.isEnabledFor(level):
        # makeRecord + handle is what Logger.log does, less finding the caller's file and line,
        # which this line does not show: a few microseconds on every request.
        args = (stats.method, stats.path, status)
        extra = {**fields, "_request_line": fields}  # the fields as attributes, and ready for JSON
        record = request_log.makeRecord(request_log.name, level, "", 0, "%s %s %s", args, None, extra=extra)
        request_log.handle(record)


class RequestIdFilter(logging.Filter):
    """Stamps the current request's id on each record that reaches the JSON handler."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            request_id = current_request_id()
            if request_id is not None:
                record.request_id = request_id
        return True


class JsonLogHandler(logging.StreamHandler):
    """The process's one JSON handler on the root logger (one line per record)."""


class JsonLineFormatter(JsonFormatter):
    """python-json-logger's formatter, with a direct path for the request line: its fields are
    ready to serialize, and the generic path costs a request about 25 µs more."""

    def format(self, record):
        fields = record.__dict__.get("_request_line")
        if fields is None:
            return super().format(record)
        line = {
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
            **fields,
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
        }
        return json.dumps(line)


def json_handler(stream=None):
    handler = JsonLogHandler(stream or sys.stdout)
    handler.setFormatter(
        JsonLineFormatter(
            ["levelname", "name", "process", "message"],
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp="time",
        )
    )
    handler.addFilter(RequestIdFilter())
    return handler


def install_json_logging(app, stream=None):
    """Send every log record of this process, as JSON, to stdout (or stream).

    Idempotent: a handler installed by an earlier app in the process is replaced, not doubled.
    Flask's own handler leaves app.logger, so an error is logged once, as JSON, with its traceback.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, JsonLogHandler)]:
        root.removeHandler(old)
    handler = json_handler(stream)
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    request_log.setLevel(logging.INFO)  # the request lines are the access log: never filtered out
    app.logger.removeHandler(default_handler)
    return handler
