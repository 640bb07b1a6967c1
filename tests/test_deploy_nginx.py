"""SPEC §12, for real: deploy/nginx.conf with TLS in front of gunicorn -c gunicorn.conf.py, with
HTTPS=1, PROXY_COUNT=1 and TRUSTED_HOSTS as the README's deployment section says (findings 1-3, 6).

Every request goes through tests/deploy_stack.py's Visitor (one place for future credentials)."""

import contextlib
import csv
import io
import re
import sqlite3
import threading
import time
import uuid
from http.client import HTTPResponse
from urllib.parse import urlencode, urljoin

import pytest

from .conftest import CSRF_INPUT, sqlite_only
from .deploy_stack import CLIENT_ADDRESS, PUBLIC_HOST, Nginx, Visitor, require_nginx
from .procs import Gunicorn, app_env, create_admin, flask, migrated_database

pytestmark = [sqlite_only, pytest.mark.slow]

USERS, POSTS_PER_USER = 40_000, 3  # posts.csv: about 16 MB
WORKER_TIMEOUT = 3  # seconds; the slow export below lasts several times longer


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_nginx()
    folder = tmp_path_factory.mktemp("deploy")
    db_path = migrated_database(folder)
    env = app_env(db_path, folder / "instance")
    seeded = flask(env, "seed", "--users", str(USERS), "--posts-per-user", str(POSTS_PER_USER), timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    env.update(HTTPS="1", PROXY_COUNT="1", TRUSTED_HOSTS=PUBLIC_HOST, GUNICORN_TIMEOUT=str(WORKER_TIMEOUT))
    # gunicorn's access log (off by default: the app's JSON line replaces it) prints REMOTE_ADDR
    # first, as the app saw it after ProxyFix.
    env["GUNICORN_CMD_ARGS"] = "--access-logfile -"
    admin = create_admin(env)
    made = flask(env, "create-token", admin[0], "--name", "deploy tests")
    assert made.returncode == 0, made.stderr
    gunicorn = Gunicorn(env, folder / "gunicorn.log", workers=2)
    gunicorn.admin, gunicorn.token, gunicorn.db_path = admin, made.stdout.strip(), db_path
    try:
        nginx = Nginx(folder / "nginx", gunicorn.address)
        try:
            yield gunicorn, nginx
        finally:
            nginx.stop()
    finally:
        gunicorn.stop()


@pytest.fixture
def visitor(stack):
    """The admin, signed in through nginx over HTTPS."""
    gunicorn, nginx = stack
    person = Visitor(nginx.port, nginx.cert)
    status, _headers = person.sign_in(*gunicorn.admin)
    assert status == 303
    return person


def test_sign_in_over_https_gives_a_secure_session_and_goes_back_to_the_page(stack):
    gunicorn, nginx = stack
    person = Visitor(nginx.port, nginx.cert)
    status, headers, _html = person.get("/posts?sort=title")
    assert status == 303
    # Relative, as Werkzeug makes them: the browser resolves it against https://public.test.
    assert (
        urljoin(person.origin + "/", headers["Location"])
        == f"https://{PUBLIC_HOST}:{nginx.port}/login?next=/posts?sort%3Dtitle"
    )
    _s, _h, html = person.get("/login?next=/posts?sort%3Dtitle")
    token = CSRF_INPUT.search(html).group(1)
    form = urlencode({"username": gunicorn.admin[0], "password": gunicorn.admin[1], "csrf_token": token})
    status, headers, _ = person.request(
        "POST",
        "/login?next=/posts?sort%3Dtitle",
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{person.origin}/login"},
        form.encode(),
    )
    assert status == 303
    assert (
        urljoin(person.origin + "/", headers["Location"])
        == f"https://{PUBLIC_HOST}:{nginx.port}/posts?sort=title"
    )
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("session=") and "; Secure" in cookie and "HttpOnly" in cookie
    assert headers["Cache-Control"] == "no-store"
    status, headers, html = person.get("/posts?sort=title")
    assert status == 200 and "Sign out" in html
    assert headers["Cache-Control"] == "private, no-cache"


def test_failed_sign_ins_are_counted_for_the_real_client_address(stack):
    """The brute-force limit counts the address nginx saw, not one the client forged."""
    gunicorn, nginx = stack
    person = Visitor(nginx.port, nginx.cert)
    status, _headers = person.sign_in(
        "nobody-" + uuid.uuid4().hex[:8], "a wrong password!", {"X-Forwarded-For": "6.6.6.6"}
    )
    assert status == 401
    conn = sqlite3.connect(gunicorn.db_path)
    try:
        addresses = {
            row[0] for row in conn.execute("SELECT key FROM sign_in_failures WHERE scope = 'address'")
        }
    finally:
        conn.close()
    assert addresses == {CLIENT_ADDRESS}


def test_a_form_over_https_works_with_secure_cookies_and_hsts(visitor):
    status, headers, html = visitor.get("/users/new")
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    token = CSRF_INPUT.search(html).group(1)
    form = f"username=nginx_user&email=nginx%40example.com&csrf_token={token}".encode()
    status, headers, _ = visitor.request(
        "POST",
        "/users/new",
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{visitor.origin}/users/new"},
        form,
    )
    assert status == 303
    page = urljoin(f"{visitor.origin}/users/new", headers["Location"])
    assert re.fullmatch(rf"https://{PUBLIC_HOST}:{visitor.port}/users/\d+", page), page
    status, _, html = visitor.get(page.removeprefix(visitor.origin))
    assert status == 200 and "nginx_user" in html


def test_a_form_without_a_referer_over_https_says_why_it_was_refused(visitor):
    _, _, html = visitor.get("/users/new")
    token = CSRF_INPUT.search(html).group(1)
    status, _, html = visitor.request(
        "POST",
        "/users/new",
        {"Content-Type": "application/x-www-form-urlencoded"},
        f"username=noreferer&email=nr%40example.com&csrf_token={token}".encode(),
    )
    assert status == 400 and "Referer" in html


def test_redirects_the_app_builds_use_https_and_the_public_host(visitor):
    status, headers, _ = visitor.get("/users//new")  # Werkzeug merges the slashes with a redirect
    assert status == 308
    assert headers["Location"] == f"https://{PUBLIC_HOST}:{visitor.port}/users/new"


def test_an_untrusted_host_through_nginx_is_a_400(stack):
    _gunicorn, nginx = stack
    status, headers, html = Visitor(nginx.port, nginx.cert, host="attacker.example").get("/healthz")
    assert status == 400 and "does not answer for the host" in html
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")


def access_log_line(gunicorn, marker, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in gunicorn.text().splitlines():
            if marker in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no access log line for {marker}")


@pytest.mark.parametrize("forged", [None, "6.6.6.6", "6.6.6.6, 7.7.7.7"])
def test_the_app_sees_the_real_client_address_whatever_the_client_forges(stack, visitor, forged):
    """gunicorn's access log prints REMOTE_ADDR as the app left it, after ProxyFix: the address
    the sign-in limits will count. nginx is 127.0.0.1, the visitor 127.0.0.2."""
    gunicorn, _nginx = stack
    marker = uuid.uuid4().hex
    extra = {"X-Forwarded-For": forged} if forged else {}
    assert visitor.get(f"/healthz?probe={marker}", extra)[0] == 200
    assert access_log_line(gunicorn, marker).split()[0] == CLIENT_ADDRESS


def test_fifty_stalled_clients_do_not_stop_healthz(stack, visitor):
    """Finding 2: half a request header, then nothing. nginx holds them; gunicorn never sees them."""
    _gunicorn, nginx = stack
    stalled = []
    try:
        for i in range(50):
            if i % 2:  # TLS done, then half a header
                sock = visitor.connect()
                sock.sendall(f"GET /users HTTP/1.1\r\nHost: {PUBLIC_HOST}:{nginx.port}\r\nUser-Ag".encode())
            else:  # not even the TLS handshake
                sock = visitor.connect.__func__(Visitor(nginx.port, nginx.cert, tls=False))
            stalled.append(sock)
        for _ in range(5):
            started = time.monotonic()
            status, _, _ = visitor.get("/healthz", timeout=5)
            elapsed = time.monotonic() - started
            assert status == 200 and elapsed < 1, elapsed
            time.sleep(0.2)
    finally:
        for sock in stalled:
            sock.close()


def read_slowly(response, bytes_per_second):
    """The body, read 64 KiB at a time at about the given rate."""
    chunks, started = [], time.monotonic()
    total = 0
    while chunk := response.read(65536):
        chunks.append(chunk)
        total += len(chunk)
        ahead = total / bytes_per_second - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    return b"".join(chunks)


def test_a_slow_export_much_longer_than_the_worker_timeout_arrives_whole(stack, visitor):
    """Finding 3: a client reading /posts.csv for several worker timeouts gets every row, other
    requests are served meanwhile, and gunicorn finishes the export while the client is not even
    reading (nginx spools it to disk): a slow reader never holds a gunicorn thread."""
    gunicorn, nginx = stack
    marker = uuid.uuid4().hex
    others, stop, app_done = [], threading.Event(), threading.Event()

    other = Visitor(nginx.port, nginx.cert)
    assert other.sign_in(*gunicorn.admin)[0] == 303

    def other_requests():
        while not stop.is_set():
            started = time.monotonic()
            status = other.get("/users?per_page=5", timeout=10)[0]
            others.append((status, time.monotonic() - started))
            stop.wait(0.3)

    def watch_app():
        access_log_line(gunicorn, marker, timeout=60)
        app_done.set()

    started = time.monotonic()
    response, sock = visitor.send("GET", f"/posts.csv?probe={marker}", timeout=30, receive_buffer=32768)
    threads = [threading.Thread(target=other_requests), threading.Thread(target=watch_app)]
    for thread in threads:
        thread.start()
    try:
        assert response.status == 200
        first = response.read(65536)
        # Read nothing more until gunicorn has written the last row (nginx's send_timeout is 30 s).
        # Far more than the socket buffers hold is still to come: without the spool it would wait.
        finished_unread = app_done.wait(25)
        app_seconds = time.monotonic() - started
        body = first + read_slowly(response, bytes_per_second=1_500_000)
    finally:
        sock.close()
        stop.set()
        for thread in threads:
            thread.join()
    elapsed = time.monotonic() - started
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["id", "title", "user_id", "author", "created_at", "body"]
    assert len(rows) == 1 + USERS * POSTS_PER_USER
    assert elapsed > 3 * WORKER_TIMEOUT, f"the export took {elapsed:.1f} s: not slow enough to mean anything"
    assert "WORKER TIMEOUT" not in gunicorn.text()
    assert finished_unread, "gunicorn could not finish while the client was not reading"
    # Served meanwhile (the bound is loose: this machine's two cores are shared).
    assert len(others) >= 5 and all(status == 200 and took < 3 for status, took in others), others
    print(f"\n{len(body) / 1e6:.1f} MB in {elapsed:.1f} s; gunicorn done after {app_seconds:.1f} s")


def test_a_chunked_body_over_the_limit_is_a_413(visitor):
    body = b"x" * (2 * 1024 * 1024)
    chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    sock = visitor.connect()
    try:
        head = visitor.request_bytes(
            "POST", "/api/users", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        )
        sock.sendall(head + chunked[:65536])
        with contextlib.suppress(OSError):  # nginx may answer and close before reading it all
            sock.sendall(chunked[65536:])
        response = HTTPResponse(sock, method="POST")
        response.begin()
        assert response.status == 413
    finally:
        sock.close()


def test_gunicorn_alone_keeps_streaming_an_export_past_the_worker_timeout(stack):
    """Why gthread (gunicorn.conf.py): when the export itself outlasts `timeout` (a million users,
    or nginx's spool full), a sync worker is killed mid-download; a gthread worker is not."""
    gunicorn, nginx = stack
    direct = Visitor(gunicorn.address[1], nginx.cert, tls=False, token=gunicorn.token)
    started = time.monotonic()
    response, sock = direct.send("GET", "/posts.csv", timeout=30, receive_buffer=32768)
    try:
        body = read_slowly(response, bytes_per_second=1_500_000)
    finally:
        sock.close()
    elapsed = time.monotonic() - started
    assert elapsed > 2 * WORKER_TIMEOUT, f"the export took {elapsed:.1f} s: not slow enough to mean anything"
    assert len(list(csv.reader(io.StringIO(body.decode())))) == 1 + USERS * POSTS_PER_USER


def test_a_chunked_body_over_the_limit_straight_to_gunicorn_is_a_413_in_json(stack):
    """Behind nginx, nginx answers it; gunicorn passes a chunked body on as a stream, and the app
    must still say 413, not 400 malformed_json (finding 10)."""
    gunicorn, nginx = stack
    direct = Visitor(gunicorn.address[1], nginx.cert, tls=False)
    body = b'{"username": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    sock = direct.connect()
    try:
        head = direct.request_bytes(
            "POST", "/api/users", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        )
        with contextlib.suppress(OSError):  # the app may answer before reading it all
            sock.sendall(head + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        response = HTTPResponse(sock, method="POST")
        response.begin()
        assert response.status == 413
        assert b'"request_entity_too_large"' in response.read()
    finally:
        sock.close()
