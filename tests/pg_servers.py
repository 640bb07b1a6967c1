"""Several app servers on one PostgreSQL database, for the tests of SPEC §15.

A scratch database (the test database's name + "_servers") made by `flask db upgrade`, two gunicorn
instances with 3 workers each on it, one HTTP helper that every request of these tests goes through,
and the checks that the kept counts equal the rows.
"""

import http.client
import json
import os
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psycopg
from sqlalchemy.engine import make_url

from .procs import Gunicorn, app_env, create_admin, flask

TEST_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_URL.startswith("postgresql")
WORKERS = 3


def libpq_dsn(url, database=None):
    """A psycopg connection string for the SQLAlchemy URL, optionally for another database."""
    url = make_url(url).set(drivername="postgresql")
    if database:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def scratch_url():
    url = make_url(TEST_URL)
    return url.set(database=f"{url.database}_servers").render_as_string(hide_password=False)


def recreate_database(url):
    name = make_url(url).database
    with psycopg.connect(libpq_dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url):
    with psycopg.connect(libpq_dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


class Api:
    """THE one place where these tests make an HTTP request to an app server.

    The API gets the admin's token (`Authorization: Bearer`), the pages the session that
    sign_in() opened. Returns (status, headers, body): body is the parsed JSON when the answer is
    JSON, else the text. A new connection per request, as independent clients would make.
    """

    def __init__(self, address, token, timeout=30):
        self.host, self.port = address
        self.token = token
        self.timeout = timeout
        self.cookies = {}  # the pages' session (CSRF token); the API does not use it

    def sign_in(self, username, password):
        _status, _headers, html = self.request("GET", "/login")
        token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        form = {"username": username, "password": password, "csrf_token": token}
        status, headers, _body = self.request("POST", "/login", form=form)
        assert status == 303, (status, headers)
        return self

    def request(self, method, path, body=None, form=None):
        """body: sent as JSON; form: sent as a form post, with the session cookie."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if form is not None:
            data = urlencode(form)
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.cookies and not path.startswith("/api/"):
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.token}"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update((k, m.value) for k, m in SimpleCookie(header).items())
        finally:
            conn.close()
        if (response.headers.get("Content-Type") or "").startswith("application/json") and text:
            return response.status, response.headers, json.loads(text)
        return response.status, response.headers, text

    # Shorthands for the calls the tests make.
    def add_user(self, name):
        fields = {"username": name, "email": f"{name}@example.com"}
        status, _h, body = self.request("POST", "/api/users", fields)
        assert status == 201, (status, body)
        return body["id"]

    def add_post(self, user_id, title="A post"):
        status, _h, body = self.request("POST", "/api/posts", {"title": title, "user_id": user_id})
        assert status == 201, (status, body)
        return body["id"]


class Cluster:
    """Two gunicorn instances (3 workers each) on one freshly migrated PostgreSQL database."""

    def __init__(self, tmp_path, instances=2):
        self.url = scratch_url()
        recreate_database(self.url)
        self.env = {**app_env(tmp_path / "unused.db", tmp_path / "instance"), "DATABASE_URL": self.url}
        result = flask(self.env, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        admin = create_admin(self.env)
        made = flask(self.env, "create-token", admin[0], "--name", "pg tests")
        assert made.returncode == 0, made.stderr
        self.servers = []
        for n in range(instances):
            env = {**self.env, "INSTANCE_PATH": str(tmp_path / f"instance{n}")}
            self.servers.append(Gunicorn(env, tmp_path / f"gunicorn{n}.log", workers=WORKERS))
        self.apis = [Api(server.address, made.stdout.strip()).sign_in(*admin) for server in self.servers]

    def connect(self, **kwargs):
        """A psycopg connection of the test's own to the app's database."""
        return psycopg.connect(libpq_dsn(self.url), **kwargs)

    def stop(self):
        """Stop the servers and drop the scratch database."""
        for server in self.servers:
            server.stop()
        drop_database(self.url)

    def logs(self):
        return "".join(server.text() for server in self.servers)

    def check(self):
        """flask check-db passes, and each kept count equals the rows (asserted here too, directly)."""
        result = flask(self.env, "check-db")
        assert result.returncode == 0, result.stdout + result.stderr
        with self.connect() as conn:
            totals = dict(
                conn.execute("SELECT split_part(name, ':', 1), sum(n) FROM row_counts GROUP BY 1").fetchall()
            )
            assert totals["users"] == conn.execute("SELECT count(*) FROM users").fetchone()[0]
            assert totals["posts"] == conn.execute("SELECT count(*) FROM posts").fetchone()[0]
            wrong = conn.execute(
                "SELECT u.id, u.post_count, count(p.id) FROM users u LEFT JOIN posts p ON p.user_id = u.id"
                " GROUP BY u.id HAVING u.post_count <> count(p.id)"
            ).fetchall()
            assert not wrong, wrong
        return totals

    def lock_waiters(self, conn):
        """How many other sessions on the app's database are waiting for a lock now."""
        # pg_stat_activity is read once per transaction unless the snapshot is cleared.
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()[0]

    def wait_for_waiters(self, conn, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.lock_waiters(conn) >= n:
                return
            time.sleep(0.01)
        raise AssertionError(f"expected {n} requests waiting for a lock, found {self.lock_waiters(conn)}")


def at_once(*requests):
    """Send each request, (api, method, path[, body]), from its own thread, all released together
    by a barrier; their answers in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(i, request):
        api, *args = request
        barrier.wait()
        results[i] = api.request(*args)

    threads = [threading.Thread(target=run, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def in_thread(request):
    """Send a request, (api, method, path[, body]), from a thread; returns a function that joins
    it and gives the answer."""
    api, *args = request
    box = []
    thread = threading.Thread(target=lambda: box.append(api.request(*args)))
    thread.start()

    def join(timeout=30):
        thread.join(timeout)
        assert box, "the request did not finish"
        return box[0]

    return join
