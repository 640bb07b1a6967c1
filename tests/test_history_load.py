"""Under concurrent writes, the history has exactly one entry per acknowledged write: none
missing, none extra (SPEC §13). A threaded server on SQLite or PostgreSQL, and four gunicorn
workers on a WAL file through the HTML forms."""

import http.client
import json
import random
import sqlite3
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from myapp.extensions import db
from myapp.models import HistoryEntry

from .conftest import sqlite_only
from .test_api_race import server  # noqa: F401 - the threaded server fixture (SQLite file or PostgreSQL)
from .test_gunicorn import assert_all_kept, deployment, run_load  # noqa: F401

pytestmark = pytest.mark.slow
SECONDS = 3


def send(port, token, method, path, body=None):
    """Every request of the threaded-server test goes through here: (status, JSON body or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        connection.close()


def test_entries_match_acknowledged_api_writes(server):  # noqa: F811
    """8 threads create users (some names collide: 409), rename them (some stale: 409), add posts
    and delete some users. Each 2xx is one entry; each refusal none."""
    app, port, token = server
    acknowledged, statuses, lock = Counter(), Counter(), threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(k):
        rng = random.Random(k)
        mine = []
        i = 0
        while time.monotonic() < deadline:
            i += 1
            choice = rng.random()
            if choice < 0.4 or not mine:
                name = f"shared{i % 5}" if rng.random() < 0.3 else f"c{k}_{i}"  # shared names collide
                status, body = send(
                    port, token, "POST", "/api/users", {"username": name, "email": f"{name}@x.io"}
                )
                if status == 201:
                    mine.append(body["id"])
            elif choice < 0.7:
                version = rng.choice([1, 2, 9])  # sometimes stale
                status, _ = send(
                    port,
                    token,
                    "PATCH",
                    f"/api/users/{rng.choice(mine)}",
                    {"username": f"r{k}_{i}", "version": version},
                )
            elif choice < 0.9:
                status, _ = send(
                    port, token, "POST", "/api/posts", {"title": f"p{i}", "user_id": rng.choice(mine)}
                )
            else:
                status, _ = send(port, token, "DELETE", f"/api/users/{mine.pop()}")
            with lock:
                statuses[status] += 1
                if status in (200, 201, 204):
                    acknowledged[status] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not set(statuses) - {200, 201, 204, 404, 409, 422}, statuses
    assert statuses[409] > 0 and sum(acknowledged.values()) > 20, statuses
    with app.app_context():
        actions = Counter(
            db.session.scalars(select(HistoryEntry.action).where(HistoryEntry.actor_name == "root"))
        )
    # 201 creates, 200 updates (a PATCH that changes the name always changes something), 204 deletes.
    assert (
        actions
        == Counter({"create": acknowledged[201], "update": acknowledged[200], "delete": acknowledged[204]})
        - Counter()
    ), (actions, acknowledged, statuses)


@sqlite_only
def test_entries_match_acknowledged_form_writes_under_gunicorn(deployment):  # noqa: F811
    gunicorn, db_path, env = deployment
    acknowledged, statuses, dropped, _elapsed = run_load(gunicorn, 4)  # tests/http_client.py sends
    gunicorn.stop()
    assert not dropped and all(status < 500 for status in statuses)
    assert len(acknowledged) >= 10
    assert_all_kept(db_path, env, acknowledged)
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT object_id, actor_name, action, kind FROM history").fetchall()
    finally:
        conn.close()
    by_operator = sorted(object_id for object_id, actor, action, kind in rows if actor == "operator")
    assert by_operator == sorted(acknowledged), "history entries differ from the acknowledged writes"
    assert {(a, b, c) for _o, a, b, c in rows} == {
        ("operator", "create", "user"),
        ("command line", "create", "user"),
    }
    assert len(rows) == len(acknowledged) + 1  # and the operator's own account, made by create-admin
