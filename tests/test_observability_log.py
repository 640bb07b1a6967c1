"""One JSON log line per request, the request id on every line written meanwhile, slow-request SQL."""

import io
import json
import logging
import re
import time
from types import SimpleNamespace

import pytest
from flask import current_app, g
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import event
from sqlalchemy.engine import Engine

from myapp.extensions import db
from myapp.observability import requestlog
from myapp.observability.requestlog import RequestStats, install_json_logging, json_handler, request_log

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_log(app):
    """The production JSON handler on the root logger, writing to a stream the test reads."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = install_json_logging(app, stream)

    def lines():
        # Every line must be JSON on its own: a newline smuggled into a field would break this.
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    lines.text = stream.getvalue
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def request_lines(lines):
    return [line for line in lines() if line["logger"] == "myapp.request"]


def test_one_line_per_request_with_its_fields(client, json_log, make_user, admin_id):
    user_id = make_user(posts=2)
    response = client.get(f"/users/{user_id}", headers={"X-Request-ID": "client-id-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "client-id-42"
    [line] = request_lines(json_log)
    assert line["request_id"] == "client-id-42"
    assert line["level"] == "INFO"
    assert (line["method"], line["endpoint"], line["path"], line["status"]) == (
        "GET",
        "users.show",
        f"/users/{user_id}",
        200,
    )
    assert line["duration_ms"] > 0 and line["db_ms"] > 0 and line["db_statements"] >= 2
    assert line["db_ms"] <= line["duration_ms"]
    assert line["account_id"] == admin_id and isinstance(line["pid"], int) and line["time"]
    assert "sql" not in line  # only slow requests list their statements


def test_an_id_is_made_when_the_client_sends_none(client, json_log):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/no/such/page").headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(first) and GENERATED_ID.fullmatch(second) and first != second
    lines = request_lines(json_log)
    assert [line["request_id"] for line in lines] == [first, second]
    assert lines[1]["endpoint"] == "none" and lines[1]["status"] == 404


@pytest.mark.parametrize(
    "forged",
    [
        "FORGED\nfake line",
        "FORGED\r\nX-Injected: 1",
        'FORGED"quote',
        "FORGED'quote",
        "FORGED id with spaces",
        "FORGED<script>",
        "FORGED" + "a" * 10_000,  # 10 kB of otherwise harmless characters
        "FORGED\x00nul",
        "FORGEDé",
    ],
)
def test_a_forged_request_id_is_replaced_not_logged(client, json_log, forged):
    # environ_base: a real server can hand the app what the test client's header checks refuse.
    response = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": forged})
    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])
    assert "FORGED" not in json_log.text()
    [line] = request_lines(json_log)
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_a_request_that_raises_logs_its_error_and_traceback_under_its_id(app, client, json_log):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500 page, not a test failure

    @app.get("/boom")
    def boom():
        current_app.logger.warning("about to fail")
        logging.getLogger("some.library").warning("a library's own line")
        raise RuntimeError("boom-marker")

    response = client.get("/boom", headers={"X-Request-ID": "req-boom-1"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-boom-1"
    assert "boom-marker" not in response.get_data(as_text=True)
    lines = json_log()
    assert lines and all(line.get("request_id") == "req-boom-1" for line in lines), lines
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert "Traceback" in error["exc_info"] and "RuntimeError: boom-marker" in error["exc_info"]
    [line] = request_lines(json_log)
    assert line["status"] == 500 and line["level"] == "WARNING" and line["endpoint"] == "boom"


def test_slow_requests_list_their_statements_without_parameters(app, client, json_log, make_user):
    make_user("secretname")
    app.config["SLOW_REQUEST_MS"] = 0  # every request is slow
    assert client.get("/users?q=secretname").status_code == 200
    [line] = request_lines(json_log)
    assert line["slow"] is True and line["level"] == "WARNING"
    assert len(line["sql"]) == line["db_statements"] >= 2
    assert any("FROM users" in s["statement"] for s in line["sql"])
    assert all(s["ms"] >= 0 for s in line["sql"])
    assert "secretname" not in json.dumps(line["sql"])  # placeholders, never the values


def test_account_id_of_the_signed_in_user(app, client, json_log):
    # Flask-Login keeps the user it loaded for this request in g._login_user; the log reads it there.
    @app.before_request
    def signed_in():
        g._login_user = SimpleNamespace(is_authenticated=True, id=7)

    client.get("/healthz")
    [line] = request_lines(json_log)
    assert line["account_id"] == 7


def test_a_streamed_export_is_logged_once_when_done_with_its_queries(app, client, json_log, make_user):
    for _ in range(3):
        make_user(posts=1)
    app.config["SLOW_REQUEST_MS"] = 0
    response = client.get("/users.csv", headers={"X-Request-ID": "export-1"})
    assert response.get_data(as_text=True).count("\n") == 5  # header, 3 users, the admin
    assert request_lines(json_log) == []  # not done until the server closes the response
    response.close()
    [line] = request_lines(json_log)
    assert line["request_id"] == "export-1" and line["status"] == 200
    assert any("FROM users" in s["statement"] and "ORDER BY" in s["statement"] for s in line["sql"])


def test_database_time_comes_from_the_apps_engine_only(app):
    with app.app_context():
        assert event.contains(db.engine, "after_cursor_execute", requestlog.after_cursor_execute)
    assert not event.contains(Engine, "after_cursor_execute", requestlog.after_cursor_execute)


def test_timing_starts_before_any_before_request_function(app, client, json_log):
    # Registered ahead of everything (as snapshot mode's refusal is): it answers without the view.
    def slow_refusal():
        time.sleep(0.05)
        return "refused", 403

    app.before_request_funcs.setdefault(None, []).insert(0, slow_refusal)
    response = client.get("/healthz", headers={"X-Request-ID": "refused-1"})
    assert response.status_code == 403 and response.headers["X-Request-ID"] == "refused-1"
    [line] = request_lines(json_log)
    assert line["status"] == 403 and line["duration_ms"] >= 50


@pytest.mark.parametrize("slow_after_ms", [500, 0])
def test_the_request_lines_shortcut_writes_what_the_formatter_would(slow_after_ms):
    stats = RequestStats("rid-1", "GET", "/users", "users.index")
    stats.status, stats.account_id = 200, 3
    stats.add_statement("SELECT 1", 0.001)
    records = []
    catcher = logging.Handler()
    catcher.emit = records.append
    level = request_log.level
    request_log.setLevel(logging.INFO)  # setLevel, not the attribute: it clears the logger's cache
    request_log.addHandler(catcher)
    try:
        requestlog.log_request(stats, 0.01, slow_after_ms)
    finally:
        request_log.removeHandler(catcher)
        request_log.setLevel(level)
    [record] = records
    formatter = json_handler().formatter
    shortcut = json.loads(formatter.format(record))
    assert shortcut == json.loads(JsonFormatter.format(formatter, record))  # python-json-logger's own
    assert shortcut["request_id"] == "rid-1" and shortcut["message"] == "GET /users 200"
