"""gunicorn.conf.py: where it binds, how many workers, and the post_fork hook."""

import logging
import runpy
from types import SimpleNamespace

import pytest

from myapp.extensions import db

from .conftest import sqlite_only
from .procs import PROJECT_ROOT


def load_conf(monkeypatch, **env):
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_CONTROL_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))


@pytest.mark.parametrize(
    ("port", "bind"),
    [(None, "127.0.0.1:8000"), ("9000", "127.0.0.1:9000"), ("0.0.0.0:9000", "0.0.0.0:9000")],
)
def test_binds_from_port(monkeypatch, port, bind):
    conf = load_conf(monkeypatch, **({"PORT": port} if port else {}))
    assert conf["bind"] == bind


def test_workers_from_web_concurrency_with_a_small_default(monkeypatch):
    assert load_conf(monkeypatch)["workers"] == 2
    assert load_conf(monkeypatch, WEB_CONCURRENCY="4")["workers"] == 4


def test_app_log_is_the_access_log_and_no_shared_control_socket(monkeypatch):
    conf = load_conf(monkeypatch)
    # The app's JSON line per request replaces gunicorn's access log; turned on, it carries the id.
    assert conf["accesslog"] is None and "%({x-request-id}o)s" in conf["access_log_format"]
    assert conf["control_socket_disable"] is True
    conf = load_conf(monkeypatch, GUNICORN_CONTROL_SOCKET="/run/myapp/gunicorn.ctl")
    assert conf["control_socket_disable"] is False and conf["control_socket"] == "/run/myapp/gunicorn.ctl"


@sqlite_only
def test_post_fork_drops_the_connections_a_worker_inherited(file_app, monkeypatch):
    post_fork = load_conf(monkeypatch)["post_fork"]
    with file_app.app_context(), db.engine.connect() as connection:
        inherited = connection.connection.dbapi_connection  # back in the pool after the block
    worker = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: file_app), pid=12345)
    post_fork(SimpleNamespace(log=logging.getLogger("test")), worker)
    try:
        with file_app.app_context(), db.engine.connect() as connection:
            assert connection.connection.dbapi_connection is not inherited
    finally:
        inherited.close()  # dispose(close=False) leaves it to its owner, the "master": this test


def test_gthread_workers_and_no_forwarded_headers_believed_by_gunicorn(monkeypatch):
    for name in ("GUNICORN_WORKER_CLASS", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    conf = load_conf(monkeypatch)
    assert (conf["worker_class"], conf["threads"], conf["forwarded_allow_ips"]) == ("gthread", 4, "")
    conf = load_conf(monkeypatch, GUNICORN_WORKER_CLASS="sync", GUNICORN_THREADS="8")
    assert (conf["worker_class"], conf["threads"]) == ("sync", 8)
