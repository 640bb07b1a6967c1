"""gunicorn with 4 workers on a WAL file under a dozen threads of reads and writes, also while
workers are SIGKILLed: no 5xx, no "database is locked", every acknowledged write is kept."""

import http.client
import os
import random
import re
import signal
import sqlite3
import threading
import time
from collections import Counter

import pytest

from .conftest import sqlite_only
from .http_client import FormClient
from .procs import Gunicorn, app_env, create_admin, flask, migrated_database

pytestmark = [sqlite_only, pytest.mark.slow]

THREADS = 12
SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "4"))  # longer runs for measuring
READS = ["/users", "/users?sort=-posts", "/posts", "/stats", "/users?q=load&page=2", "/healthz"]
SERVER_ERROR = re.compile(r'"status": 5\d\d')  # in the app's JSON line per request


@pytest.fixture
def deployment(tmp_path):
    db_path = migrated_database(tmp_path)
    env = app_env(db_path, tmp_path / "instance")
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=4)
    server.admin = create_admin(env)
    yield server, db_path, env
    server.stop()


def run_load(server, seconds, during=None):
    """THREADS clients for `seconds`: two reads to each write. Returns what they saw."""
    acknowledged, statuses, dropped = {}, [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(k):
        browser, rng, i = FormClient(server.address), random.Random(k), 0
        while time.monotonic() < deadline:
            try:
                if not browser.signed_in:
                    browser.sign_in(*server.admin)
                    status = 303
                elif i % 3 == 0:
                    name = f"load{k}_{i}"
                    status, user_id = browser.add_user(name, f"{name}@example.com")
                    if user_id is not None:
                        with lock:
                            acknowledged[user_id] = name
                        # Follow the redirect, as a browser does (it also takes the flash message).
                        status, _h, html = browser.get(f"/users/{user_id}")
                        assert status == 200 and name in html
                else:
                    status, _h, _b = browser.get(rng.choice(READS))
                with lock:
                    statuses.append(status)
            except (OSError, http.client.HTTPException) as error:  # its worker was killed
                with lock:
                    dropped.append(repr(error))
                browser.token = None
            i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if during:
        during(started)
    for thread in threads:
        thread.join()
    return acknowledged, statuses, dropped, time.monotonic() - started


def assert_all_kept(db_path, env, acknowledged):
    conn = sqlite3.connect(db_path)
    try:
        rows = dict(conn.execute("SELECT id, username FROM users"))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    lost = {uid: name for uid, name in acknowledged.items() if rows.get(uid) != name}
    assert not lost, f"{len(lost)} acknowledged writes are missing: {list(lost.items())[:5]}"
    result = flask(env, "check-db")
    assert result.returncode == 0, result.stdout + result.stderr


def assert_clean_log(text):
    assert "database is locked" not in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert not SERVER_ERROR.search(text), SERVER_ERROR.search(text)


def test_four_workers_under_mixed_load(deployment):
    server, db_path, env = deployment
    acknowledged, statuses, dropped, elapsed = run_load(server, SECONDS)
    server.stop()
    assert not dropped
    assert all(status < 500 for status in statuses), Counter(statuses)
    assert len(acknowledged) >= 10, "too few writes to mean anything"
    assert_clean_log(server.text())
    assert_all_kept(db_path, env, acknowledged)
    print(
        f"\n4 workers, {THREADS} threads, {elapsed:.1f} s: {len(statuses)} requests "
        f"({len(statuses) / elapsed:.0f}/s), {len(acknowledged)} writes acknowledged "
        f"({len(acknowledged) / elapsed:.0f}/s)"
    )


def test_workers_killed_mid_load_lose_nothing_acknowledged(deployment):
    server, db_path, env = deployment
    killed = []

    def kill_two_workers(started):
        for at in (SECONDS / 3, 2 * SECONDS / 3):
            time.sleep(max(0, started + at - time.monotonic()))
            pid = server.worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    acknowledged, statuses, dropped, elapsed = run_load(server, SECONDS, during=kill_two_workers)
    # gunicorn noticed each death and booted a replacement: 4 first, 2 more.
    server.wait_for_ready(4 + 2)
    workers = server.worker_pids()
    assert len(workers) == 4 and not set(killed) & set(workers), (killed, workers, server.text()[-3000:])
    status, _h, _b = FormClient(server.address).get("/healthz")
    assert status == 200
    server.stop()
    assert all(status < 500 for status in statuses), Counter(statuses)
    assert len(acknowledged) >= 10, "too few writes to mean anything"
    assert_clean_log(server.text())
    assert_all_kept(db_path, env, acknowledged)
    print(
        f"\nkilled {killed} mid-load: {len(acknowledged)} writes acknowledged "
        f"({len(acknowledged) / elapsed:.0f}/s), {len(dropped)} requests cut off by the kills"
    )
